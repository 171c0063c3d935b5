package executor

import (
	"encoding/json"
	"slices"

	"github.com/cairnhq/cairn/history"
)

// Why retries of an activity stopped (ActivityFailure.RetryState); the
// values of sdk/failure's RetryState.
const (
	RetryStateNonRetryable           = "non-retryable"
	RetryStateMaximumAttemptsReached = "maximum-attempts-reached"
	RetryStateTimeout                = "timeout"
)

// retryStateOf tells why an activity with options opts was not retried
// after its attempt failed with f, as accept decided it (retryAt). It is a
// function of recorded data only, so replay gives the same answer.
func retryStateOf(opts history.ActivityOptions, attempt int, f *history.Failure) string {
	if isScheduleToClose(f) {
		return RetryStateTimeout
	}
	p := opts.Retry
	if p == nil {
		p = &DefaultRetryPolicy
	}
	if f == nil || f.NonRetryable || slices.Contains(p.NonRetryableErrorTypes, f.Type) {
		return RetryStateNonRetryable
	}
	if p.MaximumAttempts > 0 && attempt >= p.MaximumAttempts {
		return RetryStateMaximumAttemptsReached
	}
	// The next attempt would have started after the schedule-to-close
	// deadline.
	return RetryStateTimeout
}

// isScheduleToClose reports a schedule-to-close timeout.
func isScheduleToClose(f *history.Failure) bool {
	if f == nil || f.Type != history.FailureTimeout || len(f.Details) == 0 {
		return false
	}
	var d struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(f.Details, &d) == nil && d.Kind == "schedule-to-close"
}
