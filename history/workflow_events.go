package history

import (
	"encoding/json"
	"time"
)

// WorkflowStarted opens a run. It is written by whoever starts the run
// (client or engine) and holds everything replay needs to begin.
type WorkflowStarted struct {
	WorkflowType string          `json:"workflowType"`
	WorkflowID   string          `json:"workflowId"`
	Run          string          `json:"run"`
	TaskQueue    string          `json:"taskQueue"`
	Input        json.RawMessage `json:"input,omitempty"`
	// RandomSeed seeds workflow.Random and workflow.UUID.
	RandomSeed uint64 `json:"randomSeed"`
	// RequestID identifies the start call, so a retried start is recognised.
	RequestID string `json:"requestId,omitempty"`
	// ExecutionTimeout bounds the run; zero means none.
	ExecutionTimeout Duration `json:"executionTimeout,omitempty"`
	// TraceParent is the W3C trace context of the start call.
	TraceParent string `json:"traceParent,omitempty"`
	// Memo is free-form data shown by describe.
	Memo json.RawMessage `json:"memo,omitempty"`
	// Parent is set for child workflows.
	Parent *ParentInfo `json:"parent,omitempty"`
	// ResetFrom is set for runs made by reset or redrive.
	ResetFrom *ResetInfo `json:"resetFrom,omitempty"`
	// SearchAttributes are the run's initial attributes for list filters.
	SearchAttributes map[string]SearchValue `json:"searchAttributes,omitempty"`
}

// WorkflowCompleted closes a run with its result.
type WorkflowCompleted struct {
	Result json.RawMessage `json:"result,omitempty"`
}

// WorkflowFailed closes a run with the error the workflow returned.
type WorkflowFailed struct {
	Failure *Failure `json:"failure"`
}

// WorkflowCanceled closes a run that returned after a cancel request.
type WorkflowCanceled struct {
	Failure *Failure `json:"failure,omitempty"`
}

// WorkflowTerminated closes a run forcibly, without running its code.
type WorkflowTerminated struct {
	Reason string `json:"reason,omitempty"`
}

// WorkflowContinuedAsNew closes a run that chose to continue as a new run
// of the same workflow id with a fresh history. The next run starts with
// Input and the events this run received but had not taken yet.
type WorkflowContinuedAsNew struct {
	Input   json.RawMessage   `json:"input,omitempty"`
	NextRun string            `json:"nextRun"`
	Events  []*SignalReceived `json:"events,omitempty"`
	// SearchAttributes and Memo carry over to the next run, as the run
	// had them when it continued.
	SearchAttributes map[string]SearchValue `json:"searchAttributes,omitempty"`
	Memo             json.RawMessage        `json:"memo,omitempty"`
}

// WorkflowTimedOut closes a run that exceeded its execution timeout,
// without running its code.
type WorkflowTimedOut struct {
	Timeout Duration `json:"timeout"`
}

// WorkflowCancelRequested asks the workflow to stop; its context is canceled
// and it may run clean-up code before it returns.
type WorkflowCancelRequested struct {
	Reason string `json:"reason,omitempty"`
}

// SignalReceived records an external event raised on the run. Events are
// delivered to the workflow in the order they were recorded; ones it has
// not waited for yet stay buffered.
type SignalReceived struct {
	Name    string          `json:"name"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// ID identifies the raise, so a repeated delivery is recorded once.
	ID string `json:"id"`
}

// StatusSet records the custom status the workflow published with
// workflow.SetStatus; describe and list show the latest one.
type StatusSet struct {
	Status json.RawMessage `json:"status"`
}

// StepCompleted records the result of inline code run by the workflow
// (workflow.Step, workflow.SideEffect): replay returns it without running
// the code again.
type StepCompleted struct {
	ID      int64           `json:"id"`
	Name    string          `json:"name"`
	Result  json.RawMessage `json:"result,omitempty"`
	Failure *Failure        `json:"failure,omitempty"`
}

// VersionMarker records the version chosen by workflow.GetVersion for a
// change, so old runs keep the code path they started with.
type VersionMarker struct {
	ID       int64  `json:"id"`
	ChangeID string `json:"changeId"`
	Version  int    `json:"version"`
}

// TimerStarted records a durable timer.
type TimerStarted struct {
	ID     int64     `json:"id"`
	Name   string    `json:"name,omitempty"`
	FireAt time.Time `json:"fireAt"`
}

// TimerFired records that a timer's due time came.
type TimerFired struct {
	ID int64 `json:"id"`
}

// TimerCanceled records that the workflow canceled a pending timer.
type TimerCanceled struct {
	ID int64 `json:"id"`
}
