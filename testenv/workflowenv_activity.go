package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/sdk/failure"
)

// runActivity runs one attempt of activity id of r, in process, and
// queues its result for r's next task. The attempt takes no virtual time.
func (e *WorkflowEnv) runActivity(r *run, id int64, attempt int) {
	a := r.inst.Activity(id)
	if a == nil || r.closed != nil {
		return
	}
	task := &activities.Task{
		ActivityAttempt: history.ActivityAttempt{Namespace: DefaultNamespace, WorkflowID: r.id, Run: r.runID, WorkflowType: r.typ,
			ActivityID: strconv.FormatInt(id, 10), ActivityType: a.ActivityType, Queue: a.Options.TaskQueue,
			Attempt: attempt, Scheduled: e.now, Deliveries: 1, HeartbeatTimeout: a.Options.HeartbeatTimeout.D()},
		Input: a.Input, StartToClose: a.Options.StartToClose.D(), ScheduleToStart: a.Options.ScheduleToStart.D()}
	if task.Queue == "" {
		task.Queue = r.queue
	}
	if d := a.Options.ScheduleToClose.D(); d > 0 {
		task.Deadline = r.inst.ActivityScheduledAt(id).Add(d)
	}
	out, f := e.call(task)
	if f != nil {
		e.deliver(r, &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{
			ID: id, Attempt: attempt, Deliveries: 1, Failure: f}})
		return
	}
	e.deliver(r, &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{
		ID: id, Attempt: attempt, Deliveries: 1, Result: out}})
}

// call runs the mock or the registered function of the task's type the
// way a worker runs an attempt: under a context that activity.GetInfo and
// activity.RecordHeartbeat understand, bounded by start-to-close (in real
// time, so a hung activity fails its attempt), with panics and invalid
// results turned into failures.
func (e *WorkflowEnv) call(t *activities.Task) (json.RawMessage, *history.Failure) {
	h := e.mocks[t.ActivityType]
	if h == nil {
		h = e.activities[t.ActivityType]
	}
	if h == nil {
		return nil, &history.Failure{Type: history.FailureUnknownType, NonRetryable: true,
			Message: fmt.Sprintf("activity type %q is neither registered nor mocked in the test env (RegisterActivity, OnActivity)", t.ActivityType)}
	}
	e.mu.Lock()
	e.calls[t.ActivityType]++
	e.mu.Unlock()

	ctx, cancel := context.WithCancel(act.WithTestTask(e.t.Context(), t))
	defer cancel()
	if t.StartToClose > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, t.StartToClose, &failure.TimeoutError{Kind: failure.TimeoutStartToClose,
			Message: fmt.Sprintf("activity %s attempt %d ran longer than its start-to-close timeout of %s", t.ActivityType, t.Attempt, t.StartToClose)})
		defer stop()
	}
	type outcome struct {
		out []byte
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{err: &failure.PanicError{Value: fmt.Sprint(v), Stack: string(debug.Stack())}}
			}
		}()
		task := *t
		out, err := h(ctx, &task)
		done <- outcome{out, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		// Like a worker, give up on a handler that outlives its timeout.
		o.err = context.Cause(ctx)
	}
	var te *failure.TimeoutError
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &te) {
		return nil, te.Failure()
	}
	if o.err != nil {
		return nil, history.FailureOf(o.err)
	}
	if len(o.out) == 0 {
		return json.RawMessage("null"), nil
	}
	if !json.Valid(o.out) {
		return nil, &history.Failure{Type: activities.FailureInvalidOutput, NonRetryable: true,
			Message: fmt.Sprintf("activity %s returned a result that is not valid JSON (%d bytes)", t.ActivityType, len(o.out))}
	}
	return o.out, nil
}
