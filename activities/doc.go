// Package activities implements cairn's public activity wire protocol, version
// 1, and the Runner that serves one activity type from JetStream.
//
// The protocol (specified in docs/protocol.md) is deliberately plain: a task
// is a JetStream message on cairn.<ns>.task.<queue>.<type> whose headers say
// which workflow, run, activity and attempt it belongs to and where to
// publish the result; the result is a JetStream message on that reply
// subject. Heartbeats are JetStream in-progress acks. A worker in any language
// with a NATS client can therefore serve activities; this package is the Go
// implementation of both ends of the message format (NewTaskMsg for the
// engine, ParseTask/NewResultMsg for workers, ParseResult for the engine) and
// of a production worker loop (Runner).
//
// Delivery is at least once: a task whose worker dies is redelivered after
// the consumer's AckWait, so handlers must be idempotent or tolerate repeats.
// An attempt with a start-to-close or heartbeat timeout is also guarded by
// its attempt timer, a message schedule the Runner arms before the handler
// runs and moves on heartbeats: if the worker dies, it fires and the engine
// times the attempt out and retries it, without waiting for the AckWait.
//
// Imports: the standard library, nats.go and its jetstream package, and the
// cairn packages streams, history, timers and sdk/failure. The engine (orchestrator)
// imports this package to build tasks and parse results; sdk/activity and the
// worker build on the Runner. activities must never import the orchestrator,
// the workflow SDK or any other sdk package except sdk/failure.
package activities
