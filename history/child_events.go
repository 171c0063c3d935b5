package history

import "encoding/json"

// ParentClosePolicy decides what happens to a child workflow still running
// when its parent closes.
type ParentClosePolicy string

// The parent-close policies.
const (
	// ParentCloseTerminate terminates the child (the default).
	ParentCloseTerminate ParentClosePolicy = "terminate"
	// ParentCloseCancel asks the child to cancel.
	ParentCloseCancel ParentClosePolicy = "cancel"
	// ParentCloseAbandon leaves the child running on its own.
	ParentCloseAbandon ParentClosePolicy = "abandon"
)

// ParentInfo, in a child's WorkflowStarted, says whom to notify when the
// child closes.
type ParentInfo struct {
	WorkflowID string `json:"workflowId"`
	Run        string `json:"run"`
	TaskQueue  string `json:"taskQueue"`
	// ChildID is the id of the ChildWorkflowScheduled command in the
	// parent's history.
	ChildID int64 `json:"childId"`
}

// ChildWorkflowScheduled records the decision to run a child workflow. Run
// is chosen by the parent (deterministically), so starting the child is
// idempotent.
type ChildWorkflowScheduled struct {
	ID                int64             `json:"id"`
	WorkflowType      string            `json:"workflowType"`
	WorkflowID        string            `json:"workflowId"`
	Run               string            `json:"run"`
	TaskQueue         string            `json:"taskQueue"`
	Input             json.RawMessage   `json:"input,omitempty"`
	ParentClosePolicy ParentClosePolicy `json:"parentClosePolicy,omitempty"`
}

// ChildWorkflowCompleted records a child's result.
type ChildWorkflowCompleted struct {
	ID     int64           `json:"id"`
	Run    string          `json:"run"`
	Result json.RawMessage `json:"result,omitempty"`
}

// ChildWorkflowFailed records a child that did not complete: it failed,
// was canceled, terminated or timed out, or could not start.
type ChildWorkflowFailed struct {
	ID      int64    `json:"id"`
	Run     string   `json:"run"`
	Failure *Failure `json:"failure"`
}

// ChildCancelRequested records that the parent asked a child to cancel.
type ChildCancelRequested struct {
	ID int64 `json:"id"`
}

// FailureChildStart is the failure type of a child that could not start
// (its workflow id is taken by a running workflow).
const FailureChildStart = "cairn.ChildStartFailed"
