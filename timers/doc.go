// Package timers makes durable timers out of JetStream message schedules
// (nats-server 2.12+, ADR-51), with an in-process fast path.
//
// A durable timer is one schedule message, `Nats-Schedule: @at <time>`, on
// its own subject in the inbox stream, targeting the inbox subject of its
// instance: at the due time the server publishes the schedule's body and
// headers there, which wakes the instance. It costs nothing while it waits,
// survives restarts of every component, and a due time that passed while the
// server was down fires as soon as it is back.
//
// The server's scheduler wakes at most every 250 ms, so a schedule fires up
// to 250 ms late. The worker that holds an instance in memory therefore also
// arms a Local timer for near-due timers and publishes the fire message
// itself, on time; the schedule stays as the durable backstop if that worker
// dies. Either way the fire message can arrive twice, so the engine treats
// it idempotently (a timer fires once in history).
//
// The package imports nats.go and the standard library only.
package timers
