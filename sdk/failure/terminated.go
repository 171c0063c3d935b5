package failure

import "github.com/cairnhq/cairn/history"

// TerminatedError reports that a workflow was terminated: stopped at once,
// without running any more of its code.
type TerminatedError struct {
	// Reason is the reason given to Terminate.
	Reason string
}

// Error implements error.
func (e *TerminatedError) Error() string {
	if e.Reason == "" {
		return "terminated"
	}
	return "terminated: " + e.Reason
}

// Failure implements history.Failer. A termination is final.
func (e *TerminatedError) Failure() *history.Failure {
	return &history.Failure{Type: history.FailureTerminated, Message: e.Reason, NonRetryable: true}
}
