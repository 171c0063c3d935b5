// Package activity is what activity code imports: information about the
// running attempt (GetInfo), heartbeats (RecordHeartbeat), and the adapters
// the worker uses to turn a typed Go function into an activities.Handler
// (Handler) and to name it (Name).
//
// An activity is an ordinary function
//
//	func ChargeCard(ctx context.Context, in ChargeInput) (Receipt, error)
//
// executed at least once per attempt: a worker that dies mid-attempt has its
// task redelivered to another worker, so activities must be idempotent.
// Return errors from sdk/failure to control retries and to give callers a
// type to match on.
//
// Imports: the standard library, cairn/activities, sdk/converter and
// sdk/failure. The worker and the workflow SDK import activity; activity
// must not import them.
package activity
