package history

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Failure is the serialized form of an error that crosses a process boundary:
// an activity's error travelling back to its workflow, a workflow's error
// travelling back to its client. Type is what callers match on; it survives
// any language, unlike a Go error type.
type Failure struct {
	// Type classifies the error ("ValidationError", "cairn.Timeout", ...).
	// Retry policies list non-retryable failures by Type.
	Type string `json:"type"`
	// Message is the human-readable text of the error.
	Message string `json:"message"`
	// NonRetryable stops retries whatever the policy says.
	NonRetryable bool `json:"nonRetryable,omitempty"`
	// Details carries application data attached to the error.
	Details json.RawMessage `json:"details,omitempty"`
	// Stack is set for captured panics.
	Stack string `json:"stack,omitempty"`
	// Cause is the wrapped failure, if any.
	Cause *Failure `json:"cause,omitempty"`
}

// Error makes a Failure usable as an error when no richer type applies.
func (f *Failure) Error() string {
	if f == nil {
		return "<nil failure>"
	}
	msg := f.Message
	if f.Type != "" {
		msg = f.Type + ": " + msg
	}
	if f.Cause != nil {
		msg += ": " + f.Cause.Error()
	}
	return msg
}

// Well-known failure types produced by the engine itself.
const (
	FailureTimeout     = "cairn.Timeout"
	FailurePanic       = "cairn.Panic"
	FailureCanceled    = "cairn.Canceled"
	FailureTerminated  = "cairn.Terminated"
	FailureGeneric     = "cairn.Error"
	FailureUnknownType = "cairn.UnknownType"
)

// Failer is implemented by errors that know their own serialized form.
type Failer interface {
	Failure() *Failure
}

// FailureOf converts any error to a Failure. Errors that implement Failer
// decide their own form; wrapped errors keep their chain as Cause.
func FailureOf(err error) *Failure {
	if err == nil {
		return nil
	}
	var f Failer
	if errors.As(err, &f) {
		return f.Failure()
	}
	var hf *Failure
	if errors.As(err, &hf) {
		return hf
	}
	return &Failure{Type: FailureGeneric, Message: err.Error()}
}

// String is used in logs.
func (f *Failure) String() string {
	if f == nil {
		return "<nil failure>"
	}
	return fmt.Sprintf("%s(%q)", f.Type, f.Message)
}

// CloseFailure is the failure a close event ends its run with: the
// workflow's error for WorkflowFailed and WorkflowCanceled, the reason of a
// termination, the execution timeout (kind "workflow-execution", as
// failure.TimeoutError encodes it); nil for a completion or a
// continue-as-new. Summaries, describe, traces and results all read it
// from here, so they agree.
func CloseFailure(ev *Event) *Failure {
	switch a := ev.Attributes.(type) {
	case *WorkflowFailed:
		return a.Failure
	case *WorkflowCanceled:
		if a.Failure != nil {
			return a.Failure
		}
		return &Failure{Type: FailureCanceled, Message: "canceled"}
	case *WorkflowTerminated:
		return &Failure{Type: FailureTerminated, Message: a.Reason}
	case *WorkflowTimedOut:
		return &Failure{Type: FailureTimeout, Message: "workflow execution timeout of " + a.Timeout.D().String(),
			NonRetryable: true, Details: json.RawMessage(`{"kind":"workflow-execution"}`)}
	}
	return nil
}
