package failure

import (
	"context"

	"github.com/cairnhq/cairn/history"
)

// CanceledError reports that a workflow or activity was canceled on request.
// It matches context.Canceled with errors.Is, so code that checks for
// context cancellation keeps working when the cancellation came from another
// process.
type CanceledError struct {
	// Message says who canceled and why, when known.
	Message string
}

// Error implements error.
func (e *CanceledError) Error() string {
	if e.Message == "" {
		return "canceled"
	}
	return "canceled: " + e.Message
}

// Is reports whether target is context.Canceled.
func (e *CanceledError) Is(target error) bool { return target == context.Canceled }

// Failure implements history.Failer. A cancellation is final.
func (e *CanceledError) Failure() *history.Failure {
	return &history.Failure{Type: history.FailureCanceled, Message: e.Message, NonRetryable: true}
}
