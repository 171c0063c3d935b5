package executor

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/failure"
)

// attemptTimedOut is the event an attempt timer's fire becomes
// (store.ParseInbox): the attempt failed with a timeout of kind.
func attemptTimedOut(id int64, attempt int, kind string) *history.Event {
	a := &activities.AttemptTimeout{ActivityID: "1", Attempt: attempt, Deliveries: 1, Kind: kind}
	return &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{ID: id, Attempt: attempt,
		Deliveries: 1, Failure: a.Failure()}}
}

// TestAttemptTimeoutsAreCountedRetriedAttempts: an attempt the engine times
// out (its worker died) is a failed attempt like any other: retried per
// the retry policy, counted against MaximumAttempts, and once it is
// retried, a late result or a second fire of that attempt is ignored.
func TestAttemptTimeoutsAreCountedRetriedAttempts(t *testing.T) {
	var got error
	fn := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		_, got = ctx.ScheduleActivity("A", in, history.ActivityOptions{
			HeartbeatTimeout: history.Duration(time.Second), StartToClose: history.Duration(time.Minute),
			Retry: &history.RetryPolicy{InitialInterval: history.Duration(time.Second), BackoffCoefficient: 1, MaximumAttempts: 3},
		}).Get(ctx.Coroutine())
		return nil, got
	}
	in := New(fn, Options{})
	defer in.Close()
	if err := in.Replay([]history.Batch{startBatch()}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Execute(t0, nil); err != nil {
		t.Fatal(err)
	}
	exec := func(at time.Duration, evs ...*history.Event) history.Batch {
		t.Helper()
		b, err := in.Execute(t0.Add(at), evs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	retrying := func(b history.Batch, attempt int, kind string) {
		t.Helper()
		if len(b) != 1 {
			t.Fatalf("batch %v, want one ActivityRetrying", b)
		}
		r, ok := b[0].Attributes.(*history.ActivityRetrying)
		var te *failure.TimeoutError
		if !ok || r.Attempt != attempt || r.Deliveries != 1 || r.NextAttemptAt.IsZero() || !errors.As(timeoutOf(r.Failure), &te) || te.Kind != kind {
			t.Fatalf("attempt %d: %+v", attempt, b[0].Attributes)
		}
	}

	retrying(exec(2*time.Second, attemptTimedOut(1, 1, failure.TimeoutHeartbeat)), 1, failure.TimeoutHeartbeat)
	// The dead worker's attempt, late: its result and a repeated fire.
	late := &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{ID: 1, Attempt: 1, Result: json.RawMessage(`"late"`)}}
	if b := exec(3*time.Second, late, attemptTimedOut(1, 1, failure.TimeoutHeartbeat)); len(b) != 0 {
		t.Fatalf("stale events recorded: %v", b)
	}
	retrying(exec(5*time.Second, attemptTimedOut(1, 2, failure.TimeoutStartToClose)), 2, failure.TimeoutStartToClose)
	// The third attempt is the last the policy allows.
	b := exec(8*time.Second, attemptTimedOut(1, 3, failure.TimeoutHeartbeat))
	if len(b) != 2 || b[0].Type != history.TypeActivityFailed || b[1].Type != history.TypeWorkflowFailed {
		t.Fatalf("last attempt: %v", b)
	}
	if f := b[0].Attributes.(*history.ActivityFailed); f.Attempt != 3 || !activities.IsAttemptTimeout(f.Failure) {
		t.Fatalf("activity failed %+v", f)
	}
	var af *ActivityFailure
	if !errors.As(got, &af) || af.Attempt != 3 || af.Failure.Type != history.FailureTimeout || af.RetryState != RetryStateMaximumAttemptsReached {
		t.Fatalf("the workflow saw %v", got)
	}
}

// timeoutOf reads back a serialized timeout's kind.
func timeoutOf(f *history.Failure) error {
	if f == nil || f.Type != history.FailureTimeout {
		return errors.New("not a timeout")
	}
	var d struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(f.Details, &d); err != nil {
		return err
	}
	return &failure.TimeoutError{Kind: d.Kind, Message: f.Message}
}

// TestOpenActivityWithAttemptTimerHasSchedules: while an activity whose
// attempts are timed by the engine is open, a worker may have armed its
// attempt timer, so closing the run must purge schedules; once it closed
// with its result, the result purged the timer.
func TestOpenActivityWithAttemptTimerHasSchedules(t *testing.T) {
	fn := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		_, err := ctx.ScheduleActivity("A", in, history.ActivityOptions{StartToClose: history.Duration(time.Minute)}).Get(ctx.Coroutine())
		return nil, err
	}
	in := New(fn, Options{})
	defer in.Close()
	if err := in.Replay([]history.Batch{startBatch()}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Execute(t0, nil); err != nil {
		t.Fatal(err)
	}
	if !in.HasSchedules() {
		t.Fatal("an open activity with a start-to-close timeout: no schedules")
	}
	if _, err := in.Execute(t0.Add(time.Second), []*history.Event{completed(1, `"ok"`)}); err != nil {
		t.Fatal(err)
	}
	if in.Closed() == nil || in.HasSchedules() {
		t.Fatalf("closed %v, schedules %v after the activity's result", in.Closed(), in.HasSchedules())
	}
}

func TestRetryStateOf(t *testing.T) {
	s2c := (&failure.TimeoutError{Kind: failure.TimeoutScheduleToClose}).Failure()
	app := &history.Failure{Type: "Declined", Message: "no"}
	limited := history.ActivityOptions{Retry: &history.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{"Fatal"}}}
	for _, tc := range []struct {
		name    string
		opts    history.ActivityOptions
		attempt int
		f       *history.Failure
		want    string
	}{
		{"schedule-to-close timeout", limited, 1, s2c, RetryStateTimeout},
		{"non-retryable failure", limited, 1, &history.Failure{Type: "X", NonRetryable: true}, RetryStateNonRetryable},
		{"listed type", limited, 1, &history.Failure{Type: "Fatal"}, RetryStateNonRetryable},
		{"last attempt", limited, 3, app, RetryStateMaximumAttemptsReached},
		{"last attempt timed out", limited, 3, attemptTimedOut(1, 3, failure.TimeoutHeartbeat).Attributes.(*history.ActivityFailed).Failure,
			RetryStateMaximumAttemptsReached},
		{"next attempt past the deadline", history.ActivityOptions{ScheduleToClose: history.Duration(time.Second)}, 2, app, RetryStateTimeout},
	} {
		if got := retryStateOf(tc.opts, tc.attempt, tc.f); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
