package failure

import (
	"encoding/json"
	"fmt"

	"github.com/cairnhq/cairn/history"
)

// TypeActivity is the history.Failure type of a serialized ActivityError.
const TypeActivity = "cairn.ActivityError"

// RetryState says why the engine stopped retrying an activity (Temporal's
// RetryState).
type RetryState string

// Retry states, carried in ActivityError.RetryState.
const (
	// RetryStateNonRetryable: the last attempt's failure is not retried
	// (marked non-retryable, listed in the retry policy's
	// NonRetryableErrorTypes, a cancellation, a schedule-to-start timeout).
	RetryStateNonRetryable RetryState = "non-retryable"
	// RetryStateMaximumAttemptsReached: the retry policy's MaximumAttempts
	// attempts have failed.
	RetryStateMaximumAttemptsReached RetryState = "maximum-attempts-reached"
	// RetryStateTimeout: the activity's schedule-to-close timeout passed,
	// or would have before the next attempt.
	RetryStateTimeout RetryState = "timeout"
)

// ActivityError is what a workflow sees when an activity ultimately fails,
// after the engine has given up retrying. Cause is the error of the last
// attempt (an *ApplicationError, *TimeoutError, *PanicError, ...); match it
// with errors.As.
type ActivityError struct {
	// ActivityType is the registered name, ActivityID the activity's id
	// within the run.
	ActivityType string
	ActivityID   string
	// Attempt is the 1-based number of the last attempt.
	Attempt int
	// RetryState is why retries stopped; empty when the activity did not
	// end with a failed attempt (the workflow canceled it).
	RetryState RetryState
	// Cause is the error of the last attempt.
	Cause error
}

type activityDetails struct {
	ActivityType string     `json:"activityType"`
	ActivityID   string     `json:"activityId"`
	Attempt      int        `json:"attempt"`
	RetryState   RetryState `json:"retryState,omitempty"`
}

func (e *ActivityError) summary() string {
	return fmt.Sprintf("activity %s (id %s, attempt %d) failed", e.ActivityType, e.ActivityID, e.Attempt)
}

// Error implements error.
func (e *ActivityError) Error() string {
	if e.Cause == nil {
		return e.summary()
	}
	return e.summary() + ": " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *ActivityError) Unwrap() error { return e.Cause }

// Failure implements history.Failer, so a workflow that returns the error
// unchanged fails with the activity context and the cause chain intact.
func (e *ActivityError) Failure() *history.Failure {
	d, _ := json.Marshal(activityDetails{ActivityType: e.ActivityType, ActivityID: e.ActivityID, Attempt: e.Attempt,
		RetryState: e.RetryState})
	return &history.Failure{
		Type:    TypeActivity,
		Message: e.summary(),
		Details: d,
		Cause:   history.FailureOf(e.Cause),
	}
}
