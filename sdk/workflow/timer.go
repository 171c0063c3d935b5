package workflow

import (
	"time"

	"github.com/cairnhq/cairn/internal/wf"
)

// NewTimer starts a durable timer that fires after d (measured from Now).
// A timer costs nothing while it waits, whether for a second or a year, and
// survives crashes and restarts of every component. Canceling ctx cancels
// the timer, and its future fails with *failure.CanceledError.
func NewTimer(ctx Context, d time.Duration) Future[struct{}] {
	return newFuture[struct{}](ctx, wf.Exec(ctx).NewTimer(d, ""))
}

// Sleep blocks the workflow for d. It returns an error only when ctx is
// canceled first.
func Sleep(ctx Context, d time.Duration) error {
	_, err := NewTimer(ctx, d).Get(ctx)
	return err
}
