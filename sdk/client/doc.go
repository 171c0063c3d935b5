// Package client starts, inspects and controls workflows from any Go
// program: start (idempotent per workflow id), wait for a result, describe
// (with cost accounting), read history, signal, query, cancel, terminate,
// pause and resume, reset and redrive, list with search-attribute filters
// and pages, purge, and manage cron schedules. It talks to NATS directly
// and needs no worker to be running: a start is committed by the client
// itself and runs as soon as a worker for its task queue is available.
//
// It imports the engine packages (orchestrator, schedules, streams,
// history) and the SDK's converter and failure packages.
package client
