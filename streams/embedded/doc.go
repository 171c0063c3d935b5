// Package embedded runs a nats-server with JetStream inside the process, for
// `cairn dev`, single-binary deployments and tests (always on a free port
// of 127.0.0.1 unless told otherwise). StartCluster runs several such
// servers as one JetStream cluster (`cairn dev --cluster 3`, tests of node
// loss and leader changes), each node on free client and route ports.
//
// It is the only package of cairn that links nats-server: everything else
// talks to a server, embedded or not, through nats.go. It imports the
// standard library, nats.go and nats-server only.
package embedded
