package activities

import (
	"context"
	"math"
	"time"
)

// NewTestContext returns a context, derived from ctx, under which a Handler
// can run without a Runner or a server: InfoFrom returns a copy of t (so
// activity.GetInfo works) and RecordHeartbeat returns ctx's error or nil.
// Heartbeat timeouts are not enforced under it. It exists for in-process
// test environments (testenv's time-skipping environment).
func NewTestContext(ctx context.Context, t *Task) context.Context {
	// progress() never reaches the (absent) message: the last in-progress
	// ack always counts as "just sent".
	ex := &execution{task: t, minProgress: math.MaxInt64, lastProgress: time.Now()}
	return context.WithValue(ctx, executionKey{}, ex)
}
