package activity

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/internal/act"
)

// Info describes the activity attempt running under a context.
type Info struct {
	// WorkflowID, Run and WorkflowType identify the run that scheduled the
	// activity.
	WorkflowID   string
	Run          string
	WorkflowType string
	// ActivityID is unique within the run; ActivityType is the registered
	// name.
	ActivityID   string
	ActivityType string
	// Queue is the task queue the attempt was taken from.
	Queue string
	// Attempt is 1-based; it grows with each retry the engine schedules.
	Attempt int
	// Deliveries counts deliveries of this attempt; above 1 means an
	// earlier worker died or stalled while running it.
	Deliveries int
	// Scheduled is when the engine scheduled this attempt.
	Scheduled time.Time
	// Deadline is the schedule-to-close deadline of the activity, zero if
	// none. The context's deadline also accounts for start-to-close.
	Deadline time.Time
	// HeartbeatTimeout is how often the activity must call
	// RecordHeartbeat, zero if it need not.
	HeartbeatTimeout time.Duration
}

// GetInfo returns information about the activity attempt running under
// ctx, or the zero Info if ctx is not an activity context.
func GetInfo(ctx context.Context) Info {
	t, _, ok := act.TaskFrom(ctx)
	if !ok {
		return Info{}
	}
	return Info{
		WorkflowID:       t.WorkflowID,
		Run:              t.Run,
		WorkflowType:     t.WorkflowType,
		ActivityID:       t.ActivityID,
		ActivityType:     t.ActivityType,
		Queue:            t.Queue,
		Attempt:          t.Attempt,
		Deliveries:       t.Deliveries,
		Scheduled:        t.Scheduled,
		Deadline:         t.Deadline,
		HeartbeatTimeout: t.HeartbeatTimeout,
	}
}

// IsActivity reports whether ctx belongs to a running activity.
func IsActivity(ctx context.Context) bool {
	_, _, ok := act.TaskFrom(ctx)
	return ok
}

// RecordHeartbeat tells cairn that the activity is alive and making
// progress. Activities with a heartbeat timeout must call it more often than
// that timeout, or their context is canceled and the attempt fails with a
// heartbeat TimeoutError. Calls are rate-limited internally, so calling it
// once per loop iteration is fine.
//
// It returns the context's error once the attempt is over, and
// ErrNotActivity outside an activity.
func RecordHeartbeat(ctx context.Context) error {
	if _, test, ok := act.TaskFrom(ctx); ok && test {
		return ctx.Err()
	}
	return activities.RecordHeartbeat(ctx)
}

// ErrNotActivity is returned by RecordHeartbeat when ctx does not belong to
// an activity attempt.
var ErrNotActivity = activities.ErrNotActivity
