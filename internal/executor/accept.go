package executor

import (
	"slices"
	"time"

	"github.com/cairnhq/cairn/history"
)

// accept decides what an inbound event means for the run now: nil when it
// is stale or a duplicate (an activity already closed, a result of an
// earlier attempt, a timer already fired or canceled), else the event to
// record. A failed attempt that the retry policy retries becomes
// ActivityRetrying. accept never changes ev or the instance.
func (in *Instance) accept(ev *history.Event) *history.Event {
	switch a := ev.Attributes.(type) {
	case *history.ActivityCompleted:
		act := in.activities[a.ID]
		if act == nil || act.closed || a.Attempt != act.attempt {
			return nil
		}
		return ev
	case *history.ActivityFailed:
		act := in.activities[a.ID]
		if act == nil || act.closed {
			return nil
		}
		if a.Attempt == 0 {
			// An engine timeout (schedule-to-close) ends the activity
			// whatever attempt is running. The inbound event is left as
			// it is: Place asks accept too, of a copy that may be stale.
			at, out := *a, *ev
			at.Attempt = act.attempt
			out.Attributes = &at
			return &out
		}
		if a.Attempt != act.attempt {
			return nil
		}
		if next, ok := in.retryAt(act, a.Failure); ok {
			return &history.Event{Type: history.TypeActivityRetrying, Attributes: &history.ActivityRetrying{
				ID: a.ID, Attempt: a.Attempt, Deliveries: a.Deliveries, Failure: a.Failure, NextAttemptAt: next, Duration: a.Duration}}
		}
		return ev
	case *history.TimerFired:
		if t := in.timers[a.ID]; t == nil || t.done {
			return nil
		}
		return ev
	case *history.WorkflowPaused, *history.WorkflowResumed:
		return in.acceptPause(ev)
	case *history.WorkflowCancelRequested:
		if in.cancelReq || in.heldCancel != nil {
			return nil
		}
		return ev
	case *history.ChildWorkflowCompleted:
		if !in.acceptChild(a.ID) {
			return nil
		}
		return ev
	case *history.ChildWorkflowFailed:
		if !in.acceptChild(a.ID) {
			return nil
		}
		return ev
	case *history.CallbackCompleted:
		if !in.acceptCallback(a.ID, a.Nonce) {
			return nil
		}
		return ev
	case *history.CallbackFailed:
		if !in.acceptCallback(a.ID, a.Nonce) {
			return nil
		}
		return ev
	case *history.CallbackHeartbeat:
		if !in.acceptCallback(a.ID, a.Nonce) {
			return nil
		}
		return ev
	case *history.SignalReceived:
		if in.seenSignals[a.ID] {
			return nil
		}
		return ev
	case *history.WorkflowTerminated, *history.WorkflowTimedOut:
		return ev
	}
	return nil
}

// DefaultRetryPolicy applies when an activity sets none: like Temporal's,
// retry forever with exponential backoff from 1 s up to 100 s.
var DefaultRetryPolicy = history.RetryPolicy{
	InitialInterval:    history.Duration(time.Second),
	BackoffCoefficient: 2,
	MaximumInterval:    history.Duration(100 * time.Second),
}

func (in *Instance) retryAt(act *activity, f *history.Failure) (time.Time, bool) {
	p := act.opts.Retry
	if p == nil {
		p = &DefaultRetryPolicy
	}
	if f == nil || f.NonRetryable || slices.Contains(p.NonRetryableErrorTypes, f.Type) {
		return time.Time{}, false
	}
	if p.MaximumAttempts > 0 && act.attempt >= p.MaximumAttempts {
		return time.Time{}, false
	}
	next := in.now.Add(p.Backoff(act.attempt))
	if s2c := act.opts.ScheduleToClose.D(); s2c > 0 && next.After(act.sched.Add(s2c)) {
		return time.Time{}, false
	}
	return next, true
}
