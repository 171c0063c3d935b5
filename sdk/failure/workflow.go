package failure

import (
	"encoding/json"
	"fmt"

	"github.com/cairnhq/cairn/history"
)

// TypeWorkflow is the history.Failure type of a serialized WorkflowError.
const TypeWorkflow = "cairn.WorkflowError"

// WorkflowError is what a client (or a parent workflow) sees when a workflow
// run failed. Cause is the workflow's own error; match it with errors.As.
type WorkflowError struct {
	// WorkflowID, Run and WorkflowType identify the run that failed.
	WorkflowID   string
	Run          string
	WorkflowType string
	// Cause is the workflow's own error (an *ApplicationError,
	// *TimeoutError, *CanceledError, *TerminatedError, ...).
	Cause error
}

type workflowDetails struct {
	WorkflowID   string `json:"workflowId"`
	Run          string `json:"run"`
	WorkflowType string `json:"workflowType"`
}

func (e *WorkflowError) summary() string {
	return fmt.Sprintf("workflow %s (id %q, run %s) failed", e.WorkflowType, e.WorkflowID, e.Run)
}

// Error implements error.
func (e *WorkflowError) Error() string {
	if e.Cause == nil {
		return e.summary()
	}
	return e.summary() + ": " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *WorkflowError) Unwrap() error { return e.Cause }

// Failure implements history.Failer.
func (e *WorkflowError) Failure() *history.Failure {
	d, _ := json.Marshal(workflowDetails{WorkflowID: e.WorkflowID, Run: e.Run, WorkflowType: e.WorkflowType})
	return &history.Failure{
		Type:    TypeWorkflow,
		Message: e.summary(),
		Details: d,
		Cause:   history.FailureOf(e.Cause),
	}
}
