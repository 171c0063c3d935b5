package history

import (
	"encoding/json"
	"time"
)

// Status is the state of a run.
type Status string

// The run states. Every state but Running is final.
const (
	StatusRunning    Status = "running"
	StatusCompleted  Status = "completed"
	StatusFailed     Status = "failed"
	StatusCanceled   Status = "canceled"
	StatusTerminated Status = "terminated"
	StatusTimedOut   Status = "timed_out"
	// StatusContinuedAsNew: the run closed and a new run of the same id
	// carries on.
	StatusContinuedAsNew Status = "continued_as_new"
)

// Valid reports whether s is one of the run states.
func (s Status) Valid() bool {
	switch s {
	case StatusRunning, StatusCompleted, StatusFailed, StatusCanceled, StatusTerminated, StatusTimedOut, StatusContinuedAsNew:
		return true
	}
	return false
}

// StatusOf returns the status a close event gives its run (Running for any
// other event).
func StatusOf(ev *Event) Status {
	switch ev.Type {
	case TypeWorkflowCompleted:
		return StatusCompleted
	case TypeWorkflowFailed:
		return StatusFailed
	case TypeWorkflowCanceled:
		return StatusCanceled
	case TypeWorkflowTerminated:
		return StatusTerminated
	case TypeWorkflowTimedOut:
		return StatusTimedOut
	case TypeWorkflowContinuedAsNew:
		return StatusContinuedAsNew
	}
	return StatusRunning
}

// Summary is the listing view of an instance's current run, kept in the
// instances bucket for list and describe. History stays the source of truth;
// the summary may lag it briefly and is reconciled from it.
type Summary struct {
	WorkflowID   string    `json:"workflowId"`
	WorkflowType string    `json:"workflowType"`
	TaskQueue    string    `json:"taskQueue"`
	Run          string    `json:"run"`
	Status       Status    `json:"status"`
	StartTime    time.Time `json:"startTime"`
	CloseTime    time.Time `json:"closeTime,omitzero"`
	// CustomStatus is the latest value the workflow set with
	// workflow.SetStatus.
	CustomStatus json.RawMessage `json:"customStatus,omitempty"`
	// Failure is the error of a failed or canceled run.
	Failure *Failure `json:"failure,omitempty"`
	// Parked is set while the run cannot progress because its code broke
	// determinism or panicked; it clears when fixed code runs it.
	Parked *Failure `json:"parked,omitempty"`
	// Paused is set while an operator has paused the run.
	Paused bool `json:"paused,omitempty"`
	// SearchAttributes are the run's attributes for list filters: those
	// of its start, then every upsert, as of HistorySeq.
	SearchAttributes map[string]SearchValue `json:"searchAttributes,omitempty"`
	// HistorySeq is the stream sequence of the last history message the
	// summary reflects; writers never replace a summary with an older one.
	HistorySeq uint64 `json:"historySeq"`
}
