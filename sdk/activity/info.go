package activity

import (
	"context"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
)

// Info describes the activity attempt running under a context: which
// workflow run and activity it belongs to, its attempt number, how often
// its message was delivered, and its deadlines. It is the engine's one
// model of an attempt (history.ActivityAttempt), so the worker, its traces
// and activity code always agree on it.
type Info = history.ActivityAttempt

// GetInfo returns information about the activity attempt running under
// ctx, or the zero Info if ctx is not an activity context.
func GetInfo(ctx context.Context) Info {
	t, _, ok := act.TaskFrom(ctx)
	if !ok {
		return Info{}
	}
	return t.ActivityAttempt
}

// IsActivity reports whether ctx belongs to a running activity.
func IsActivity(ctx context.Context) bool {
	_, _, ok := act.TaskFrom(ctx)
	return ok
}

// RecordHeartbeat tells cairn that the activity is alive and making
// progress. Activities with a heartbeat timeout must call it more often than
// that timeout, or their context is canceled and the attempt fails with a
// heartbeat TimeoutError. Heartbeats also reach the engine (at most every
// 0.8 × the heartbeat timeout), which times the attempt out by itself if
// they stop because the worker died. Calls are rate-limited internally, so
// calling it once per loop iteration is fine.
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
