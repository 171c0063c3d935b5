package failure

import (
	"encoding/json"

	"github.com/cairnhq/cairn/history"
)

// FromFailure reconstructs the typed error that f was serialized from, with
// its cause chain, so errors.As and errors.Is work across process
// boundaries. Failures of a type this package does not own become
// *ApplicationError, keeping Type, Message, NonRetryable and Details.
// FromFailure(nil) returns nil.
//
// Round trips are exact for the fields each type serializes, with one
// exception: an ApplicationError with an empty Type comes back with
// history.FailureGeneric.
func FromFailure(f *history.Failure) error {
	if f == nil {
		return nil
	}
	switch f.Type {
	case history.FailureTimeout:
		return &TimeoutError{Kind: timeoutKind(f), Message: f.Message}
	case history.FailurePanic:
		return &PanicError{Value: f.Message, Stack: f.Stack}
	case history.FailureCanceled:
		return &CanceledError{Message: f.Message}
	case history.FailureTerminated:
		return &TerminatedError{Reason: f.Message}
	case TypeActivity:
		var d activityDetails
		if json.Unmarshal(f.Details, &d) == nil {
			return &ActivityError{ActivityType: d.ActivityType, ActivityID: d.ActivityID, Attempt: d.Attempt, Cause: FromFailure(f.Cause)}
		}
	case TypeWorkflow:
		var d workflowDetails
		if json.Unmarshal(f.Details, &d) == nil {
			return &WorkflowError{WorkflowID: d.WorkflowID, Run: d.Run, WorkflowType: d.WorkflowType, Cause: FromFailure(f.Cause)}
		}
	}
	// Unknown types, and engine types whose details another implementation
	// wrote in a form we cannot read, degrade to an ApplicationError rather
	// than losing the failure.
	return &ApplicationError{
		Type:         f.Type,
		Message:      f.Message,
		NonRetryable: f.NonRetryable,
		Details:      cloneRaw(f.Details),
		Cause:        FromFailure(f.Cause),
	}
}
