// Package httpedge is what every HTTP endpoint cairn serves puts between
// the network and its handler: bearer-token authentication, recovery from
// handler panics, and a server with timeouts on every phase of a request
// and optional TLS. It imports only the standard library, so any package
// that serves HTTP (cloudevents, cmd/cairn) may use it; it must never
// import them.
package httpedge
