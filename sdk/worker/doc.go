// Package worker hosts workflows and activities: register the functions,
// Run, and the worker serves its task queue until its context ends.
//
//	w, err := worker.New(nc, "orders")
//	if err != nil { ... }
//	w.RegisterWorkflow(OrderWorkflow)
//	w.RegisterActivity(Charge)
//	err = w.Run(ctx)
//
// A worker runs the workflow engine for the workflow types it registered
// and one activity runner per activity type, records the types in the
// namespace's registry (so starts of unknown types are rejected) and
// publishes a liveness heartbeat (so describe can tell that a run waits for
// a worker). Any number of workers may serve the same queue.
//
// Options are validated by New: an invalid value is an error wrapping
// ErrInvalidOption that names the option and the value. Registration
// errors (a bad function shape, an invalid RegisterOption, a name
// registered twice) are collected and returned by Run, before anything is
// served.
//
// The engine behind it is internal; this package's options are the
// supported way to tune it.
package worker
