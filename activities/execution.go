package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/telemetry"
)

// FailureInvalidOutput is the failure type reported when a handler returns
// a result that is not JSON. Payloads are embedded in JSON history, so such
// a result cannot be recorded; the failure is non-retryable because the same
// code will produce the same output.
const FailureInvalidOutput = "cairn.InvalidOutput"

// execution is one delivery of one task: it enforces the attempt's
// timeouts, runs the handler, and reports the outcome.
type execution struct {
	r       *Runner
	task    *Task
	msg     jetstream.Msg
	ackWait time.Duration
	log     *slog.Logger

	// minProgress rate-limits in-progress acks: +WPI only restarts a timer
	// on the server, so one per min(1s, AckWait/10) is plenty.
	minProgress time.Duration

	mu           sync.Mutex
	lastProgress time.Time
	watchdog     *time.Timer // heartbeat timeout; nil without one

	// timer is the attempt's engine timer while the handler runs; nil
	// when the task names none. Set before the handler starts.
	timer *attemptTimer
}

// outcome is what the handler goroutine hands back.
type outcome struct {
	output []byte
	err    error
	// cause is the handler context's cancellation cause at the moment the
	// handler returned (or was abandoned), nil if it was still live: a
	// result produced after a timeout fired is a timeout, whatever the
	// handler returned.
	cause error
	// returned is false when the handler was abandoned.
	returned bool
}

func newExecution(r *Runner, t *Task, msg jetstream.Msg, ackWait time.Duration) *execution {
	return &execution{
		r:           r,
		task:        t,
		msg:         msg,
		ackWait:     ackWait,
		minProgress: min(time.Second, ackWait/10),
		log: r.log.With(
			slog.String("workflow_id", t.WorkflowID),
			slog.String("run", t.Run),
			slog.String("activity_id", t.ActivityID),
			slog.Int("attempt", t.Attempt),
			slog.Int("deliveries", t.Deliveries)),
	}
}

// run executes the task and reports its result. release frees the task's
// concurrency slot; it is called when the handler returns (or right away if
// the handler never runs), which may be after run returns if a handler
// ignores its context.
func (ex *execution) run(hard context.Context, release func()) {
	if ex.closedByEngine(hard) {
		release()
		ex.skipClosed(hard)
		return
	}
	stopKeepAlive := func() {}
	if ex.r.opts.autoHeartbeat {
		stopKeepAlive = ex.keepAlive(hard)
	}
	res, handBack := ex.execute(hard, release)
	if handBack {
		stopKeepAlive()
		ex.log.Info("runner shutting down; handing the task back")
		_ = ex.msg.Nak()
		return
	}
	if !ex.r.opts.autoHeartbeat {
		// Reporting can take a while if the server is restarting; the
		// task must not be redelivered meanwhile, since its result exists.
		stopKeepAlive = ex.keepAlive(hard)
	}
	defer stopKeepAlive()
	ex.report(hard, res)
}

// execute produces the attempt's result, or handBack=true if the runner
// shut down before there was one.
func (ex *execution) execute(hard context.Context, release func()) (res *Result, handBack bool) {
	t := ex.task
	res = &Result{Run: t.Run, ActivityID: t.ActivityID, Attempt: t.Attempt, Deliveries: t.Deliveries, TraceParent: t.TraceParent,
		Token: t.Token, AttemptTimer: t.AttemptTimer}
	pickup := time.Now()
	hard, finish := ex.trace(hard, pickup)
	defer func() { finish(res, handBack) }()
	defer func() {
		if res != nil {
			res.Duration = time.Since(pickup)
		}
	}()
	if tp, _ := telemetry.TraceParent(hard); tp != "" && telemetry.Recording(hard) {
		// The workflow task that takes the result links to this attempt.
		res.TraceParent = tp
	}
	if f := ex.expired(pickup); f != nil {
		release()
		res.Failure = f.Failure()
		ex.log.Warn("task expired before it started", slog.Any("error", f))
		return res, false
	}

	if t.AttemptTimer != "" {
		// Armed before any user code runs, so that the engine times the
		// attempt out whenever this process dies from here on.
		at := newAttemptTimer(ex, pickup)
		if !at.arm(hard) {
			release()
			return nil, true
		}
		defer at.stop()
		ex.timer = at
	}

	hctx, cancel := context.WithCancelCause(hard)
	defer cancel(nil)
	if deadline, timeout := ex.deadline(pickup); !deadline.IsZero() {
		var cancelDeadline context.CancelFunc
		hctx, cancelDeadline = context.WithDeadlineCause(hctx, deadline, timeout)
		defer cancelDeadline()
	}
	if hb := t.HeartbeatTimeout; hb > 0 {
		ex.mu.Lock()
		ex.watchdog = time.AfterFunc(hb, func() {
			cancel(&failure.TimeoutError{Kind: failure.TimeoutHeartbeat,
				Message: fmt.Sprintf("activity %s attempt %d sent no heartbeat for %s", t.ActivityType, t.Attempt, hb)})
		})
		ex.mu.Unlock()
		defer ex.stopWatchdog()
	}
	defer ex.watchCancel(func() {
		cancel(&failure.CanceledError{Message: fmt.Sprintf("activity %s canceled by its workflow", t.ActivityType)})
	})()
	hctx = context.WithValue(hctx, executionKey{}, ex)

	done := make(chan outcome, 1)
	go func() {
		defer release()
		done <- ex.call(hctx)
	}()

	var out outcome
	select {
	case out = <-done:
		out.returned = true
	case <-hctx.Done():
		// Do not wait for a handler that may ignore its context: the
		// attempt is over either way.
		out.cause = context.Cause(hctx)
	}

	if out.cause != nil {
		var ce *failure.CanceledError
		if errors.As(out.cause, &ce) {
			// The workflow no longer wants the result; report it so the
			// task is acknowledged, not handed to another worker.
			res.Failure = ce.Failure()
			return res, false
		}
		var te *failure.TimeoutError
		if !errors.As(out.cause, &te) {
			// The runner shut down mid-flight: let another worker run the
			// attempt. Even a handler that completed just now could not
			// report, as reporting runs under the same, canceled, context.
			return nil, true
		}
		if !out.returned {
			ex.log.Warn("handler still running after its timeout; abandoning it", slog.Any("error", te))
		}
		res.Failure = te.Failure()
		return res, false
	}
	if out.err != nil {
		res.Failure = history.FailureOf(out.err)
		return res, false
	}
	res.Output = out.output
	if !validPayload(out.output) {
		res.Output = nil
		res.Failure = &history.Failure{Type: FailureInvalidOutput, NonRetryable: true,
			Message: fmt.Sprintf("activity %s returned a result that is not valid JSON (%d bytes)", t.ActivityType, len(out.output))}
		return res, false
	}
	if len(res.Output) == 0 {
		res.Output = []byte("null")
	}
	return res, false
}

// expired reports a task that must not start: it waited in the queue longer
// than its schedule-to-start timeout, or its schedule-to-close deadline has
// passed. Schedule-to-start only applies to the first delivery: a
// redelivered task was started before, by a worker that died, and waiting
// for AckWait was not the task's fault.
func (ex *execution) expired(now time.Time) *failure.TimeoutError {
	t := ex.task
	if t.ScheduleToStart > 0 && t.Deliveries <= 1 && now.After(t.Scheduled.Add(t.ScheduleToStart)) {
		return &failure.TimeoutError{Kind: failure.TimeoutScheduleToStart,
			Message: fmt.Sprintf("activity %s attempt %d waited %s in the queue, more than its schedule-to-start timeout of %s",
				t.ActivityType, t.Attempt, now.Sub(t.Scheduled).Round(time.Millisecond), t.ScheduleToStart)}
	}
	if !t.Deadline.IsZero() && !now.Before(t.Deadline) {
		return &failure.TimeoutError{Kind: failure.TimeoutScheduleToClose,
			Message: fmt.Sprintf("activity %s attempt %d picked up after its schedule-to-close deadline %s",
				t.ActivityType, t.Attempt, t.Deadline.UTC().Format(time.RFC3339Nano))}
	}
	return nil
}

// deadline is the earliest of start-to-close (counted from pickup) and the
// schedule-to-close deadline, with the timeout to report when it passes.
func (ex *execution) deadline(pickup time.Time) (time.Time, *failure.TimeoutError) {
	t := ex.task
	var at time.Time
	var te *failure.TimeoutError
	if t.StartToClose > 0 {
		at = pickup.Add(t.StartToClose)
		te = &failure.TimeoutError{Kind: failure.TimeoutStartToClose,
			Message: fmt.Sprintf("activity %s attempt %d ran longer than its start-to-close timeout of %s", t.ActivityType, t.Attempt, t.StartToClose)}
	}
	if !t.Deadline.IsZero() && (at.IsZero() || t.Deadline.Before(at)) {
		at = t.Deadline
		te = &failure.TimeoutError{Kind: failure.TimeoutScheduleToClose,
			Message: fmt.Sprintf("activity %s attempt %d passed its schedule-to-close deadline %s", t.ActivityType, t.Attempt, t.Deadline.UTC().Format(time.RFC3339Nano))}
	}
	return at, te
}

// call runs the handler, turning a panic into a PanicError.
func (ex *execution) call(ctx context.Context) (out outcome) {
	defer func() {
		if v := recover(); v != nil {
			out = outcome{err: &failure.PanicError{Value: fmt.Sprint(v), Stack: string(debug.Stack())}}
		}
		if ctx.Err() != nil {
			out.cause = context.Cause(ctx)
		}
	}()
	t := *ex.task // the handler gets its own copy to keep ours intact
	output, err := ex.r.handler(ctx, &t)
	return outcome{output: output, err: err}
}

func (ex *execution) stopWatchdog() {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.watchdog != nil {
		ex.watchdog.Stop()
		ex.watchdog = nil
	}
}
