// Package store owns an instance's durable state in JetStream: the history
// of its runs (head, load, conditional append), the operations that change
// it from outside the workflow code (start, terminate, signal, cancel,
// pause, resume, reset, callback completion), the inbox messages that carry
// them to the orchestrator, the instance summaries behind list, the type
// registry and the purge of closed instances. docs/design/engine.md is the
// source of truth for every subject, header and message id written here.
//
// Backend is the seam: the orchestrator, the client (sdk/client), the
// CloudEvents ingress and the scheduler depend on it, never on each other.
// Every write is a conditional append or an idempotent publish (a
// deterministic Nats-Msg-Id), so a retried call after a lost reply
// duplicates nothing.
//
// The package imports history, streams, activities (the result wire
// format), internal/executor (query errors) and the NATS client. It must
// not import the orchestrator, the SDK or cmd/.
package store
