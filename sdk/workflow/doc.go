// Package workflow is what workflow code is written with.
//
// A workflow is an ordinary Go function
//
//	func(ctx workflow.Context, in In) (Out, error)
//
// that cairn runs durably: every decision it makes (run an activity, sleep,
// record a step) is committed to the run's history in JetStream, and after a
// crash, a deploy or a year-long sleep the function is replayed against that
// history on any worker and continues exactly where it stopped.
//
// # Determinism
//
// Replay works only if the function makes the same decisions, in the same
// order, given the same history. Workflow code must therefore:
//
//   - do I/O only through activities (ExecuteActivity) or recorded steps
//     (Step, SideEffect);
//   - read the clock with Now, never time.Now; sleep with Sleep or NewTimer,
//     never time.Sleep;
//   - draw random numbers with Random or UUID, never math/rand or crypto/rand;
//   - start concurrency with Go, Channel and Selector, never go statements,
//     chan or select;
//   - not depend on map iteration order;
//   - change its decisions only behind GetVersion.
//
// A run whose code breaks these rules is stopped with a NonDeterminismError
// naming the event and the code line; its history is never altered, and it
// resumes when compatible code is deployed.
//
// This package is a thin layer over cairn's internal machinery; it imports
// sdk/converter, sdk/failure and history (for the durable search-attribute
// and parent-close values). Nothing in the engine imports it.
package workflow
