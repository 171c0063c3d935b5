package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/internal/wf"
)

// RetryPolicy decides whether and when a failed activity is retried
// (Temporal's RetryPolicy). The engine applies it; the zero value means:
// retry forever, every 1 s doubling up to 100 s. Zero fields take their
// defaults; a negative interval or attempt count, a BackoffCoefficient
// below 1 or a MaximumInterval below the initial interval is invalid
// (ErrInvalidOption).
type RetryPolicy struct {
	// InitialInterval is the wait before the first retry (default 1s).
	InitialInterval time.Duration
	// BackoffCoefficient multiplies the wait after each retry (default 2;
	// at least 1).
	BackoffCoefficient float64
	// MaximumInterval caps the wait between retries (default 100 times
	// InitialInterval).
	MaximumInterval time.Duration
	// MaximumAttempts counts the first attempt; 0 means unlimited, 1 no retry.
	MaximumAttempts int
	// NonRetryableErrorTypes lists failure types (failure.ApplicationError
	// Type) that fail the activity at once.
	NonRetryableErrorTypes []string
}

// ActivityOptions configure the activities scheduled under a context
// (Temporal's ActivityOptions). Zero durations mean "no bound"; negative
// ones, an invalid task queue or an invalid RetryPolicy fail the
// activity's future with ErrInvalidOption, scheduling nothing.
type ActivityOptions struct {
	// TaskQueue routes the activity; empty means the workflow's queue.
	TaskQueue string
	// ScheduleToCloseTimeout bounds the whole activity, retries included.
	ScheduleToCloseTimeout time.Duration
	// ScheduleToStartTimeout bounds the wait for a worker to pick up an
	// attempt.
	ScheduleToStartTimeout time.Duration
	// StartToCloseTimeout bounds one attempt. The engine enforces it even
	// if the worker running the attempt dies: the attempt then fails with a
	// start-to-close TimeoutError and is retried per RetryPolicy, counted
	// as an attempt.
	StartToCloseTimeout time.Duration
	// HeartbeatTimeout fails an attempt whose activity stops calling
	// activity.RecordHeartbeat for this long, or whose worker dies (the
	// engine enforces it), with a heartbeat TimeoutError; the attempt is
	// retried per RetryPolicy, counted as an attempt.
	HeartbeatTimeout time.Duration
	// RetryPolicy; nil means the default policy.
	RetryPolicy *RetryPolicy
}

type activityOptionsKey struct{}

// WithActivityOptions returns a context whose activities use opts. The
// options are checked when an activity is scheduled under the context.
func WithActivityOptions(ctx Context, opts ActivityOptions) Context {
	return WithValue(ctx, activityOptionsKey{}, opts)
}

func activityOptions(ctx Context) (history.ActivityOptions, error) {
	o, _ := ctx.Value(activityOptionsKey{}).(ActivityOptions)
	if err := o.validate(); err != nil {
		return history.ActivityOptions{}, err
	}
	h := history.ActivityOptions{
		TaskQueue:        o.TaskQueue,
		ScheduleToClose:  history.Duration(o.ScheduleToCloseTimeout),
		ScheduleToStart:  history.Duration(o.ScheduleToStartTimeout),
		StartToClose:     history.Duration(o.StartToCloseTimeout),
		HeartbeatTimeout: history.Duration(o.HeartbeatTimeout),
	}
	if p := o.RetryPolicy; p != nil {
		h.Retry = &history.RetryPolicy{
			InitialInterval:        history.Duration(p.InitialInterval),
			BackoffCoefficient:     p.BackoffCoefficient,
			MaximumInterval:        history.Duration(p.MaximumInterval),
			MaximumAttempts:        p.MaximumAttempts,
			NonRetryableErrorTypes: p.NonRetryableErrorTypes,
		}
	}
	return h, nil
}

// ExecuteActivity schedules the activity fn with input in and returns its
// future. fn is used for its name and types only; the activity runs on
// whichever worker serves that name on the task queue.
//
//	receipt, err := workflow.ExecuteActivity(ctx, Charge, order).Get(ctx)
func ExecuteActivity[I, R any](ctx Context, fn func(context.Context, I) (R, error), in I) Future[R] {
	return ExecuteActivityByName[R](ctx, act.Name(fn), in)
}

// ExecuteActivityByName schedules an activity by its registered name, for
// activities served by workers in other languages. Invalid activity
// options, or an input the converter cannot encode, fail the future at
// once and schedule nothing.
func ExecuteActivityByName[R any](ctx Context, name string, in any) Future[R] {
	x := wf.Exec(ctx)
	opts, err := activityOptions(ctx)
	if err != nil {
		return failed[R](ctx, fmt.Errorf("activity %s: %w", name, err))
	}
	raw, err := wf.Converter(ctx).ToPayload(in)
	if err != nil {
		return failed[R](ctx, err)
	}
	return newFuture[R](ctx, x.ScheduleActivity(name, json.RawMessage(raw), opts))
}

// failed returns a future that failed with err.
func failed[R any](ctx Context, err error) Future[R] {
	f, settle := NewFuture[R](ctx)
	var zero R
	settle(zero, err)
	return f
}
