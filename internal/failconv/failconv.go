// Package failconv turns the serialized failures of history back into the
// typed errors of sdk/failure, and answers the engine's questions about
// them (is this retryable, what error does this close event carry). It is
// internal: applications only see the typed errors; the workflow SDK, the
// client and testenv use it to rebuild them.
package failconv

import (
	"encoding/json"
	"slices"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/failure"
)

// The Details of serialized ActivityError, WorkflowError and TimeoutError,
// as sdk/failure writes them.
type (
	activityDetails struct {
		ActivityType string             `json:"activityType"`
		ActivityID   string             `json:"activityId"`
		Attempt      int                `json:"attempt"`
		RetryState   failure.RetryState `json:"retryState"`
	}
	workflowDetails struct {
		WorkflowID   string `json:"workflowId"`
		Run          string `json:"run"`
		WorkflowType string `json:"workflowType"`
	}
	timeoutDetails struct {
		Kind string `json:"kind"`
	}
)

// FromFailure reconstructs the typed error that f was serialized from, with
// its cause chain, so errors.As and errors.Is work across process
// boundaries. Failures of a type sdk/failure does not own become
// *failure.ApplicationError, keeping Type, Message, NonRetryable and
// Details. FromFailure(nil) returns nil.
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
		return &failure.TimeoutError{Kind: timeoutKind(f), Message: f.Message}
	case history.FailurePanic:
		return &failure.PanicError{Value: f.Message, Stack: f.Stack}
	case history.FailureCanceled:
		return &failure.CanceledError{Message: f.Message}
	case history.FailureTerminated:
		return &failure.TerminatedError{Reason: f.Message}
	case failure.TypeActivity:
		var d activityDetails
		if json.Unmarshal(f.Details, &d) == nil {
			return &failure.ActivityError{ActivityType: d.ActivityType, ActivityID: d.ActivityID, Attempt: d.Attempt,
				RetryState: d.RetryState, Cause: FromFailure(f.Cause)}
		}
	case failure.TypeWorkflow:
		var d workflowDetails
		if json.Unmarshal(f.Details, &d) == nil {
			return &failure.WorkflowError{WorkflowID: d.WorkflowID, Run: d.Run, WorkflowType: d.WorkflowType, Cause: FromFailure(f.Cause)}
		}
	}
	// Unknown types, and engine types whose details another implementation
	// wrote in a form we cannot read, degrade to an ApplicationError rather
	// than losing the failure.
	return &failure.ApplicationError{
		Type:         f.Type,
		Message:      f.Message,
		NonRetryable: f.NonRetryable,
		Details:      cloneRaw(f.Details),
		Cause:        FromFailure(f.Cause),
	}
}

// OfClose returns the error a run's close event ends it with, before it is
// wrapped in a *failure.WorkflowError: the typed error of a failed,
// canceled, terminated or timed-out run, nil for any other event (a
// completion, a continue-as-new).
func OfClose(ev *history.Event) error {
	return FromFailure(history.CloseFailure(ev))
}

// IsRetryable reports whether the engine may schedule another attempt after
// failure f, given the retry policy's list of non-retryable failure types.
// Only the top-level failure is considered, as in the retry policy.
//
// Not retryable: a nil failure (there is nothing to retry), a failure marked
// NonRetryable, a failure whose Type is listed, cancellations and
// terminations, and timeouts of kind schedule-to-start, schedule-to-close
// or workflow-execution (another attempt would face the same expired wait
// or deadline). Panics and start-to-close or heartbeat timeouts are
// retryable unless listed.
func IsRetryable(f *history.Failure, nonRetryableTypes []string) bool {
	if f == nil || f.NonRetryable || slices.Contains(nonRetryableTypes, f.Type) {
		return false
	}
	switch f.Type {
	case history.FailureCanceled, history.FailureTerminated:
		return false
	case history.FailureTimeout:
		switch timeoutKind(f) {
		case failure.TimeoutScheduleToStart, failure.TimeoutScheduleToClose, failure.TimeoutWorkflowExecution:
			return false
		}
	}
	return true
}

// timeoutKind reads the kind from a serialized timeout, tolerating details
// written by other implementations.
func timeoutKind(f *history.Failure) string {
	var d timeoutDetails
	if len(f.Details) > 0 && json.Unmarshal(f.Details, &d) == nil {
		return d.Kind
	}
	return ""
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return append(json.RawMessage(nil), r...)
}
