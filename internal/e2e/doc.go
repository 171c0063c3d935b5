// Package e2e holds the engine's end-to-end tests: real embedded
// nats-server, real workers, real clients. It has no non-test code.
package e2e
