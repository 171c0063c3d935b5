// Package testenv gives tests a cairn environment, at two levels.
//
// Env is a real, isolated server: an embedded nats-server with JetStream
// in a temporary directory on a random loopback port, a client connection,
// and a provisioned namespace, all torn down by t.Cleanup. It can stop and
// restart the server on the same data directory and port to test crash
// recovery and reconnection. WithCluster runs it on a JetStream cluster of
// embedded nodes instead, to test node loss and leader changes. env.go
// holds it; helpers for workers and clients live in their own files.
//
// WorkflowEnv (workflowenv*.go) unit-tests workflow code without a server,
// on a virtual clock that skips ahead whenever the workflow only waits for
// time: a workflow that sleeps a year finishes in milliseconds. The
// replayer (replay.go) replays an exported history (`cairn workflow
// history --json`) against the current code and reports the first
// non-deterministic command. docs/testing.md explains both.
//
// Dependencies: testenv imports streams, the nats libraries, the engine
// (internal/executor, orchestrator, activities), the SDK, the standard
// library and testing. It is imported only from tests and test tooling.
package testenv
