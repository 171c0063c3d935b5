package executor

import (
	"encoding/json"
	"fmt"

	"github.com/cairnhq/cairn/history"
)

// NonDeterminismError reports that workflow code no longer issues the
// commands its history recorded. The instance is parked, not failed: history
// is left untouched and the run resumes once compatible code is deployed.
type NonDeterminismError struct {
	WorkflowID string
	Run        string
	// EventSeq is the sequence of the recorded event that did not match (0
	// when the code issued a command beyond the end of the recorded ones).
	EventSeq int64
	// Expected is the recorded command, Actual what the code issued now.
	Expected string
	Actual   string
	// Location is the file:line of the workflow code that issued Actual.
	Location string
}

func (e *NonDeterminismError) Error() string {
	msg := fmt.Sprintf("non-deterministic workflow %q run %s at event %d: history has %s, code issued %s",
		e.WorkflowID, e.Run, e.EventSeq, e.Expected, e.Actual)
	if e.Location != "" {
		msg += " at " + e.Location
	}
	return msg
}

// Failure is the serialized form stored in the instance summary.
func (e *NonDeterminismError) Failure() *history.Failure {
	return &history.Failure{Type: FailureNonDeterminism, Message: e.Error(), NonRetryable: true}
}

// FailureNonDeterminism is the failure type of a NonDeterminismError.
const FailureNonDeterminism = "cairn.NonDeterminism"

// FailureWorkflowTask is the failure type of a workflow task that panicked.
const FailureWorkflowTask = "cairn.WorkflowTaskFailed"

// TaskPanicError reports workflow code that panicked. Like Temporal, cairn
// treats it as a bug to fix rather than a workflow failure: the instance is
// parked and the task retried when new code is deployed.
type TaskPanicError struct {
	WorkflowID string
	Run        string
	Value      string
	Stack      string
}

func (e *TaskPanicError) Error() string {
	return fmt.Sprintf("workflow %q run %s panicked: %s", e.WorkflowID, e.Run, e.Value)
}

// Failure is the serialized form stored in the instance summary.
func (e *TaskPanicError) Failure() *history.Failure {
	return &history.Failure{Type: FailureWorkflowTask, Message: e.Error(), Stack: e.Stack}
}

// HistoryLimitError reports a run whose history would grow past one of its
// configured bounds: the number of events (MaxHistoryEvents, checked by the
// executor) or the stored size (MaxHistoryBytes, checked by the
// orchestrator before it appends). Nothing is committed; the instance
// parks. Workflows that run long should continue as new before they reach
// either bound.
type HistoryLimitError struct {
	WorkflowID string
	Run        string
	// EventSeq is the sequence of the last event the refused task would
	// have committed.
	EventSeq int64
	// Measure is what went over: HistoryEvents or HistoryBytes.
	Measure HistoryMeasure
	// Value is what the history would have reached, Limit the bound.
	Value int64
	Limit int64
}

// HistoryMeasure names the bound a HistoryLimitError went over.
type HistoryMeasure string

// The bounds of a run's history.
const (
	HistoryEvents HistoryMeasure = "events"
	HistoryBytes  HistoryMeasure = "bytes"
)

func (e *HistoryLimitError) Error() string {
	return fmt.Sprintf("workflow %q run %s at event %d: history would reach %d %s, over the limit of %d; continue as new (workflow.NewContinueAsNewError) before that",
		e.WorkflowID, e.Run, e.EventSeq, e.Value, e.Measure, e.Limit)
}

// Failure is the serialized form stored in the instance summary.
func (e *HistoryLimitError) Failure() *history.Failure {
	return &history.Failure{Type: FailureHistoryLimit, Message: e.Error(), NonRetryable: true}
}

// FailureHistoryLimit is the failure type of a HistoryLimitError.
const FailureHistoryLimit = "cairn.HistoryLimit"

// ActivityFailure is the error of an activity future: the activity's final
// failure with the identity of the activity.
type ActivityFailure struct {
	ActivityType string
	ID           int64
	Attempt      int
	// RetryState is why the engine stopped retrying (a RetryState* value);
	// empty when the workflow canceled the activity.
	RetryState string
	Failure    *history.Failure
}

func (e *ActivityFailure) Error() string {
	return fmt.Sprintf("activity %s (id %d, attempt %d): %s", e.ActivityType, e.ID, e.Attempt, e.Failure.Error())
}

// ContinueAsNewError, returned by a workflow function, closes the run and
// starts a new run of the same workflow id with Input (see
// workflow.NewContinueAsNewError).
type ContinueAsNewError struct {
	Input json.RawMessage
}

func (e *ContinueAsNewError) Error() string { return "continue as new" }

// CanceledFailure is the error of a future whose operation was canceled by
// the workflow (its context was canceled before the operation finished).
var CanceledFailure = &history.Failure{Type: history.FailureCanceled, Message: "canceled"}
