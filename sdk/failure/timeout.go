package failure

import (
	"encoding/json"

	"github.com/cairnhq/cairn/history"
)

// Timeout kinds, carried in TimeoutError.Kind.
const (
	// TimeoutStartToClose: one attempt ran longer than its start-to-close timeout.
	TimeoutStartToClose = "start-to-close"
	// TimeoutScheduleToStart: the task waited in the queue longer than allowed.
	TimeoutScheduleToStart = "schedule-to-start"
	// TimeoutScheduleToClose: the activity as a whole, retries included,
	// passed its deadline.
	TimeoutScheduleToClose = "schedule-to-close"
	// TimeoutHeartbeat: a heartbeating activity stopped heartbeating.
	TimeoutHeartbeat = "heartbeat"
	// TimeoutWorkflowExecution: a workflow run exceeded its execution
	// timeout and was closed.
	TimeoutWorkflowExecution = "workflow-execution"
)

// TimeoutError reports that an activity or workflow exceeded one of its
// timeouts. It serializes as history.FailureTimeout with the kind in Details
// ({"kind":"start-to-close"}) so the kind survives any language.
type TimeoutError struct {
	// Kind is one of the Timeout* constants.
	Kind string
	// Message is the human-readable text.
	Message string
}

type timeoutDetails struct {
	Kind string `json:"kind"`
}

// Error implements error.
func (e *TimeoutError) Error() string {
	msg := e.Kind + " timeout"
	if e.Kind == "" {
		msg = "timeout"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Failure implements history.Failer. Timeouts that cannot be cured by
// another attempt (the task waited too long in the queue, or the overall
// deadline has passed) are marked non-retryable.
func (e *TimeoutError) Failure() *history.Failure {
	d, _ := json.Marshal(timeoutDetails{Kind: e.Kind}) // a struct of strings always encodes
	return &history.Failure{
		Type:         history.FailureTimeout,
		Message:      e.Message,
		NonRetryable: !timeoutRetryable(e.Kind),
		Details:      d,
	}
}

func timeoutRetryable(kind string) bool {
	switch kind {
	case TimeoutScheduleToStart, TimeoutScheduleToClose, TimeoutWorkflowExecution:
		return false
	default:
		return true
	}
}
