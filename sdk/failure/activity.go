package failure

import (
	"encoding/json"
	"fmt"

	"github.com/cairnhq/cairn/history"
)

// TypeActivity is the history.Failure type of a serialized ActivityError.
const TypeActivity = "cairn.ActivityError"

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
	// Cause is the error of the last attempt.
	Cause error
}

type activityDetails struct {
	ActivityType string `json:"activityType"`
	ActivityID   string `json:"activityId"`
	Attempt      int    `json:"attempt"`
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
	d, _ := json.Marshal(activityDetails{ActivityType: e.ActivityType, ActivityID: e.ActivityID, Attempt: e.Attempt})
	return &history.Failure{
		Type:    TypeActivity,
		Message: e.summary(),
		Details: d,
		Cause:   history.FailureOf(e.Cause),
	}
}
