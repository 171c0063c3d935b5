package workflow

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/internal/wf"
)

// RetryPolicy decides whether and when a failed activity is retried. The
// engine applies it; the zero value means: retry forever, every 1 s doubling
// up to 100 s.
type RetryPolicy struct {
	InitialInterval    time.Duration
	BackoffCoefficient float64
	MaximumInterval    time.Duration
	// MaximumAttempts counts the first attempt; 0 means unlimited, 1 no retry.
	MaximumAttempts int
	// NonRetryableErrorTypes lists failure types (failure.ApplicationError
	// Type) that fail the activity at once.
	NonRetryableErrorTypes []string
}

// ActivityOptions configure the activities scheduled under a context.
type ActivityOptions struct {
	// TaskQueue routes the activity; empty means the workflow's queue.
	TaskQueue string
	// ScheduleToClose bounds the whole activity, retries included.
	ScheduleToClose time.Duration
	// ScheduleToStart bounds the wait for a worker to pick up an attempt.
	ScheduleToStart time.Duration
	// StartToClose bounds one attempt.
	StartToClose time.Duration
	// HeartbeatTimeout fails an attempt whose activity stops calling
	// activity.RecordHeartbeat for this long.
	HeartbeatTimeout time.Duration
	// RetryPolicy; nil means the default policy.
	RetryPolicy *RetryPolicy
}

type activityOptionsKey struct{}

// WithActivityOptions returns a context whose activities use opts.
func WithActivityOptions(ctx Context, opts ActivityOptions) Context {
	return WithValue(ctx, activityOptionsKey{}, opts)
}

func activityOptions(ctx Context) history.ActivityOptions {
	o, _ := ctx.Value(activityOptionsKey{}).(ActivityOptions)
	h := history.ActivityOptions{
		TaskQueue:        o.TaskQueue,
		ScheduleToClose:  history.Duration(o.ScheduleToClose),
		ScheduleToStart:  history.Duration(o.ScheduleToStart),
		StartToClose:     history.Duration(o.StartToClose),
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
	return h
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
// activities served by workers in other languages.
func ExecuteActivityByName[R any](ctx Context, name string, in any) Future[R] {
	x := wf.Exec(ctx)
	raw, err := wf.Converter(ctx).ToPayload(in)
	if err != nil {
		f, settle := NewFuture[R](ctx)
		var zero R
		settle(zero, err)
		return f
	}
	return newFuture[R](ctx, x.ScheduleActivity(name, json.RawMessage(raw), activityOptions(ctx)))
}
