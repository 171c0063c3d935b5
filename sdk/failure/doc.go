// Package failure defines the typed errors that cross cairn's process
// boundaries: the errors activities return, the errors workflows see when an
// activity ultimately fails, and the errors clients see when a workflow fails.
//
// Every type here implements history.Failer, so history.FailureOf turns it
// into the serialized history.Failure stored in history and sent on the wire.
// Wherever cairn hands an error back (a workflow future, a client's Get,
// testenv) it rebuilds these types from the history.Failure, which is what
// makes errors.As work across processes and languages:
//
//	var declined *failure.ApplicationError
//	if errors.As(err, &declined) && declined.Type == "CardDeclined" { ... }
//
// Mapping between Go types and history.Failure.Type:
//
//	*ApplicationError  any type that is not one of the engine types below
//	*TimeoutError      history.FailureTimeout, Details {"kind": "<kind>"}
//	*PanicError        history.FailurePanic, Message = panic value, Stack
//	*CanceledError     history.FailureCanceled
//	*TerminatedError   history.FailureTerminated, Message = reason
//	*ActivityError     TypeActivity, Details {"activityType","activityId","attempt","retryState"}
//	*WorkflowError     TypeWorkflow, Details {"workflowId","run","workflowType"}
//
// Imports: the standard library and cairn/history only. The activity runner,
// the workflow SDK and the client import failure; failure must never import
// them.
package failure
