// Package cloudevents connects cairn to CloudEvents.
//
// In: an Ingress receives CloudEvents on NATS (subjects
// cairn.<ns>.events.>, binary or structured content mode) and over HTTP
// (POST /v1/events: binary, structured or batch), matches them against the
// namespace's triggers (kept in the KV bucket cairn-<ns>-triggers, see
// Store) and starts a workflow run or raises an external event on a running
// one. Rejected events are answered (HTTP 400 problem+json, or a NATS reply
// when the event had a reply subject) and always copied to
// cairn.<ns>.events.rejected with the reason in the Cairn-Reject-Reason
// header. Derived workflow ids and signal ids come from the event's source
// and id, so a re-delivered event never starts or signals twice.
//
// Out: a LifecyclePublisher, plugged into a worker through
// orchestrator.WithLifecycle, publishes every lifecycle change of a run as a
// CloudEvent on cairn.<ns>.lifecycle.<kind>.<workflow type>.
//
// Encoding is github.com/cloudevents/sdk-go/v2 throughout: structured mode
// on NATS is its NATS protocol binding; binary mode on NATS (ce- headers, as
// in the CloudEvents NATS binding 1.0.1) is a binding.Message and
// binding.BinaryWriter over nats.go headers in this package. docs/cloudevents.md
// is the user documentation.
package cloudevents
