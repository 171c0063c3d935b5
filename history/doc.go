// Package history is the event model of cairn: the events that make up a
// workflow run's history, the batches they are committed in, and the
// serialized form of errors.
//
// A run's history is the single source of truth about it. Each committed
// workflow task appends one Batch; replaying the workflow code against the
// batches, in order, rebuilds its state exactly. Events fall in two kinds:
// command events record a decision of the workflow code (schedule an
// activity, start a timer, complete) and are matched against the code on
// replay; the others record something that happened to the run (an
// activity's result, a timer firing, a cancel request) and are fed to it.
//
// The package depends on the standard library only; the engine, the SDK and
// the tools import it, so it must stay free of NATS and of engine types.
package history
