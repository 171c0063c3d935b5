// Package testenv gives tests a real, isolated cairn environment: an
// embedded nats-server with JetStream in a temporary directory on a random
// loopback port, a client connection, and a provisioned namespace, all torn
// down by t.Cleanup. It can stop and restart the server on the same data
// directory and port to test crash recovery and reconnection.
//
// env.go holds the environment itself; helpers for workers and clients live
// in their own files.
//
// Dependencies: testenv imports streams, the nats libraries, the standard
// library and testing. It is imported only from tests.
package testenv
