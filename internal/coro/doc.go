// Package coro is the deterministic cooperative scheduler that runs workflow
// code while cairn replays and extends a workflow's event history. It plays
// the role of the dispatcher in Temporal's Go SDK or internal/sync in
// go-workflows.
//
// # Why a scheduler
//
// A cairn workflow is rebuilt by re-running its code against its recorded
// history, and every re-run must issue the same commands in the same order.
// Workflow code may be concurrent (workflow.Go, channels, selectors), so the
// interleaving of that concurrency has to be a pure function of the code and
// its inputs. Go's own scheduler gives no such guarantee, so workflow
// concurrency is run here instead.
//
// # Model
//
// Each coroutine runs on its own goroutine (a runtime coroutine created with
// iter.Pull, so a switch is a direct hand-off rather than a trip through the
// Go run queue), but exactly one of them executes at a time and control
// changes hands only at a blocking point: Coroutine.Block. Every primitive in
// this package (Future, Channel, Selector, WaitGroup) is built on Block, and
// workflow code must block only through them: never on Go channels, mutexes,
// sleeps or I/O.
//
// Scheduler.Run makes passes over the coroutines in creation order. On each
// pass a coroutine that has not started yet is started, and a blocked
// coroutine whose condition has become true is resumed; it then runs until
// it blocks again or returns. Coroutines created during a pass are appended
// and run later in the same pass. Run returns when a whole pass makes no
// progress, that is when every live coroutine is blocked or all have
// finished. The engine then delivers new events (typically by setting
// Futures from outside any coroutine) and calls Run again.
//
// # Determinism guarantee
//
// Given the same sequence of Go, Run and external calls (Future.Set, Channel
// operations between Runs), and workflow code that is itself deterministic,
// the scheduler produces the same interleaving every time: which coroutine
// runs, where it switches, which blocked sender or receiver a channel
// serves (FIFO) and which Selector case fires (the first ready one added).
// Nothing in the package depends on timing, goroutine scheduling, map order
// or randomness. The one timing-dependent feature, deadlock detection, does
// not alter the interleaving: it only gives up on a run.
//
// # Failure handling
//
// A panic in workflow code ends Run with a *PanicError; a coroutine that runs
// longer than the deadlock timeout without blocking ends it with a
// *DeadlockError. Both are sticky: the instance is considered broken and the
// engine is expected to Close and discard it. Close unwinds every unfinished
// coroutine with a private panic so that its deferred functions run and its
// goroutine exits; an evicted workflow instance therefore leaks nothing.
//
// # Concurrency
//
// A Scheduler and the primitives created for it are not safe for concurrent
// use. The engine calls Go, Run, Close and external Future.Set and Channel
// operations from one goroutine at a time; workflow code calls into the
// package only from its own coroutine while that coroutine is running. The
// hand-off between the engine, the scheduler and the coroutines establishes
// the happens-before edges, so no locks are needed on the hot path.
//
// # Dependencies
//
// The package imports only the standard library. It is imported by the
// workflow runtime (internal/executor and the typed wrappers in
// sdk/workflow), never the other way round, so it can be tested and
// benchmarked in isolation.
package coro
