// Package activity is what activity code imports: information about the
// running attempt (GetInfo, IsActivity) and heartbeats (RecordHeartbeat).
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
// An activity's type name is its function name without package or receiver
// (pkg.ChargeCard and (*pkg.Billing).ChargeCard are both "ChargeCard"),
// unless it is registered with worker.WithName; workflows calling
// workflow.ExecuteActivity with the function use the same derivation.
//
// Imports: the standard library, cairn/activities (the wire protocol) and
// the SDK's internal machinery. The worker and the workflow SDK import
// activity; activity must not import them.
package activity
