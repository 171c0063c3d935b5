// Package schedules starts workflows on a cron expression or an interval,
// on JetStream's repeating message schedules (ADR-51): nothing in cairn
// keeps time for a schedule, the server does.
//
// A schedule is two things in namespace <ns>:
//
//   - its definition and state, one JSON entry in the KV bucket
//     cairn-<ns>-schedules (Store): the spec, the start action, the overlap
//     and catch-up policies, whether it is paused, and what it did lately;
//   - a repeating schedule message (`Nats-Schedule: @every 1m` or a
//     6-field cron, with `Nats-Schedule-Time-Zone`) on
//     cairn.<ns>.schedule.<id> in the stream cairn-<ns>-schedules, which
//     publishes a fire message to cairn.<ns>.schedulefire.<id> at every
//     tick.
//
// A Runner consumes the fire subjects through one durable consumer shared by
// every runner of the namespace (each fire is processed once; workers and
// `cairn dev` / `cairn server` each run one). It turns a fire into zero or
// more workflow starts, decided by the overlap and catch-up policies and
// recorded in the schedule's state with compare-and-set BEFORE the starts
// are made. Each start has a deterministic workflow id (prefix + nominal
// fire time) and never reuses a closed id, so a duplicated fire, a
// redelivery after a crash, or a racing runner starts nothing twice.
//
// The package imports streams, orchestrator, history, telemetry and
// timers, nats.go and github.com/robfig/cron/v3 (the cron arithmetic; the
// server's own cron parser derives from it). sdk/client and sdk/worker
// import it; it imports no SDK package.
package schedules
