// Package streams owns cairn's JetStream layout: the names of every stream,
// subject, consumer and key-value bucket of a namespace, their provisioning,
// and the raw direct-get reads the engine uses to load histories. The embedded
// nats-server lives in streams/embedded, so that importing streams links no
// server.
//
// The layout itself is specified in docs/design/engine.md; this package is its
// only implementation, so no other package should build a subject or stream
// name by hand.
//
// Dependencies: streams imports only the standard library, nats.go (and its
// jetstream package). It must not import any other cairn
// package, because every other cairn package builds on it.
package streams
