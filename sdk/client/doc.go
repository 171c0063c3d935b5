// Package client starts, inspects and controls workflows from any Go
// program: start (idempotent per workflow id), wait for a result, describe,
// read history, cancel, terminate and list. It talks to NATS directly and
// needs no worker to be running: a start is committed by the client itself
// and runs as soon as a worker for its task queue is available.
//
// It imports the engine packages (orchestrator, streams, history) and the
// SDK's converter and failure packages.
package client
