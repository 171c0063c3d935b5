// Package worker hosts workflows and activities: register the functions,
// Run, and the worker serves its task queue until its context ends.
//
//	w := worker.New(nc, "orders")
//	w.RegisterWorkflow(OrderWorkflow)
//	w.RegisterActivity(Charge)
//	err := w.Run(ctx)
//
// A worker runs the orchestrator for the workflow types it registered and
// one activities.Runner per activity type, records the types in the
// namespace's registry (so starts of unknown types are rejected) and
// publishes a liveness heartbeat (so describe can tell that a run waits for
// a worker). Any number of workers may serve the same queue.
//
// It imports orchestrator, activities, streams and the SDK packages.
package worker
