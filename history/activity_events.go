package history

import (
	"encoding/json"
	"time"
)

// RetryPolicy decides whether and when a failed activity attempt is retried.
// The engine enforces it; workers only report failures.
type RetryPolicy struct {
	InitialInterval    Duration `json:"initialInterval,omitempty"`
	BackoffCoefficient float64  `json:"backoffCoefficient,omitempty"`
	MaximumInterval    Duration `json:"maximumInterval,omitempty"`
	// MaximumAttempts of 0 means unlimited; 1 means no retry.
	MaximumAttempts        int      `json:"maximumAttempts,omitempty"`
	NonRetryableErrorTypes []string `json:"nonRetryableErrorTypes,omitempty"`
}

// Backoff returns the delay before the attempt that follows attempt n
// (1-based), following the policy with its defaults filled in.
func (p *RetryPolicy) Backoff(n int) time.Duration {
	initial := p.InitialInterval.D()
	if initial <= 0 {
		initial = time.Second
	}
	coef := p.BackoffCoefficient
	if coef < 1 {
		coef = 2
	}
	maxI := p.MaximumInterval.D()
	if maxI <= 0 {
		maxI = 100 * initial
	}
	d := float64(initial)
	for i := 1; i < n; i++ {
		d *= coef
		if d >= float64(maxI) {
			return maxI
		}
	}
	if time.Duration(d) > maxI {
		return maxI
	}
	return time.Duration(d)
}

// ActivityOptions are the per-call settings of an activity, recorded so that
// every retry and every replay uses the same ones.
type ActivityOptions struct {
	TaskQueue        string       `json:"taskQueue,omitempty"`
	ScheduleToClose  Duration     `json:"scheduleToClose,omitempty"`
	ScheduleToStart  Duration     `json:"scheduleToStart,omitempty"`
	StartToClose     Duration     `json:"startToClose,omitempty"`
	HeartbeatTimeout Duration     `json:"heartbeatTimeout,omitempty"`
	Retry            *RetryPolicy `json:"retry,omitempty"`
}

// ActivityScheduled records the decision to run an activity.
type ActivityScheduled struct {
	ID           int64           `json:"id"`
	ActivityType string          `json:"activityType"`
	Input        json.RawMessage `json:"input,omitempty"`
	Options      ActivityOptions `json:"options"`
}

// ActivityCompleted closes an activity with its result.
type ActivityCompleted struct {
	ID      int64 `json:"id"`
	Attempt int   `json:"attempt"`
	// Deliveries counts executions of this attempt (more than one when a
	// worker died and the task was redelivered).
	Deliveries int             `json:"deliveries,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	// Duration is how long the attempt's handler ran, as its worker
	// reported it (0 = not reported).
	Duration Duration `json:"duration,omitempty"`
}

// ActivityFailed closes an activity whose last attempt failed and that will
// not be retried.
type ActivityFailed struct {
	ID         int64    `json:"id"`
	Attempt    int      `json:"attempt"`
	Deliveries int      `json:"deliveries,omitempty"`
	Failure    *Failure `json:"failure"`
	Duration   Duration `json:"duration,omitempty"`
}

// ActivityRetrying records a failed attempt that the retry policy retries.
// It is invisible to workflow code.
type ActivityRetrying struct {
	ID            int64     `json:"id"`
	Attempt       int       `json:"attempt"`
	Deliveries    int       `json:"deliveries,omitempty"`
	Failure       *Failure  `json:"failure"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
	Duration      Duration  `json:"duration,omitempty"`
}

// ActivityCancelRequested records that the workflow gave up on an activity;
// its future resolves as canceled and a late result is ignored.
type ActivityCancelRequested struct {
	ID int64 `json:"id"`
}
