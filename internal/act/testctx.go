package act

import (
	"context"

	"github.com/cairnhq/cairn/activities"
)

type testTaskKey struct{}

// WithTestTask returns a context, derived from ctx, under which activity
// code runs without a Runner or a server: sdk/activity's GetInfo returns a
// copy of t, IsActivity reports true and RecordHeartbeat returns ctx's
// error or nil. Heartbeat timeouts are not enforced under it. testenv's
// time-skipping environment runs activities under it.
func WithTestTask(ctx context.Context, t *activities.Task) context.Context {
	return context.WithValue(ctx, testTaskKey{}, t)
}

// TaskFrom returns a copy of the task running under ctx, whether a Runner
// or WithTestTask set it up; test reports which one did.
func TaskFrom(ctx context.Context) (t *activities.Task, test bool, ok bool) {
	if t, ok := activities.InfoFrom(ctx); ok {
		return t, false, true
	}
	if t, ok := ctx.Value(testTaskKey{}).(*activities.Task); ok {
		c := *t
		return &c, true, true
	}
	return nil, false, false
}
