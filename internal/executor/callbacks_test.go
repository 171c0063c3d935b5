package executor

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
)

// waitThenCleanUp waits for a callback; when the wait ends without a
// result it runs a clean-up activity on a disconnected context.
func waitThenCleanUp(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
	cb, f := ctx.StartCallback("review", time.Hour, 0)
	if f != nil {
		return nil, f
	}
	res, f, reason := ctx.WaitCallback(cb.ID)
	if f == nil && reason == "" {
		return res, nil
	}
	if _, err := ctx.Disconnected().ScheduleActivity("cleanup", in, history.ActivityOptions{}).Get(ctx.Coroutine()); err != nil {
		return nil, err
	}
	if f != nil {
		return nil, f
	}
	return json.RawMessage(`"` + reason + `"`), nil
}

// callbackRun runs waitThenCleanUp live: end is what ends the wait (a
// cancel request, or the fire of the callback's timeout timer); a late
// completion of the callback follows. It returns the committed batches.
func callbackRun(t *testing.T, end func(b history.Batch) *history.Event, wantReason string) []history.Batch {
	t.Helper()
	in := New(waitThenCleanUp, Options{})
	defer in.Close()
	batches := []history.Batch{startBatch()}
	if err := in.Replay(batches); err != nil {
		t.Fatal(err)
	}
	exec := func(i int, inbound ...*history.Event) history.Batch {
		t.Helper()
		b, err := in.Execute(t0.Add(time.Duration(i)*time.Second), inbound)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
		return b
	}
	b := exec(1)
	var started *history.CallbackStarted
	for _, ev := range b {
		if a, ok := ev.Attributes.(*history.CallbackStarted); ok {
			started = a
		}
	}
	if started == nil {
		t.Fatalf("no callback started: %v", types(b))
	}
	b = exec(2, end(b))
	var closed *history.CallbackTimedOut
	var cleanup int64
	for _, ev := range b {
		switch a := ev.Attributes.(type) {
		case *history.CallbackTimedOut:
			closed = a
		case *history.ActivityScheduled:
			cleanup = a.ID
		}
	}
	if closed == nil || closed.ID != started.ID || closed.Reason != wantReason || cleanup == 0 {
		t.Fatalf("the wait's end did not close the callback (%s): %v", wantReason, types(b))
	}
	late := ev(history.TypeCallbackCompleted, &history.CallbackCompleted{ID: started.ID, Nonce: started.Nonce, Result: json.RawMessage(`"late"`)})
	if b := exec(3, late); len(b) != 0 {
		t.Fatalf("a completion after the close was accepted: %v", types(b))
	}
	batches = batches[:len(batches)-1]
	exec(4, completed(cleanup, `"cleaned"`))
	if in.Closed() == nil {
		t.Fatal("run did not close")
	}
	return batches
}

func TestCanceledCallbackWaitRecordsCloseAndReplays(t *testing.T) {
	cancel := func(history.Batch) *history.Event {
		return ev(history.TypeWorkflowCancelRequested, &history.WorkflowCancelRequested{Reason: "stop"})
	}
	batches := callbackRun(t, cancel, CallbackCanceled)
	in := New(waitThenCleanUp, Options{})
	defer in.Close()
	if err := in.Replay(batches); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if c := in.Closed(); c == nil || c.Type != history.TypeWorkflowCanceled {
		t.Fatalf("replayed run closed with %v", c)
	}
	// The close is a command: a history without it is another decision.
	var cut []history.Batch
	for _, b := range batches {
		var kept history.Batch
		for _, e := range b {
			if e.Type != history.TypeCallbackTimedOut {
				kept = append(kept, e)
			}
		}
		cut = append(cut, kept)
	}
	other := New(waitThenCleanUp, Options{})
	defer other.Close()
	var nde *NonDeterminismError
	if err := other.Replay(cut); !errors.As(err, &nde) {
		t.Fatalf("replay without the close: %v", err)
	}
}

func TestTimedOutCallbackWaitRecordsCloseAndReplays(t *testing.T) {
	fire := func(b history.Batch) *history.Event {
		for _, e := range b {
			if a, ok := e.Attributes.(*history.TimerStarted); ok {
				return ev(history.TypeTimerFired, &history.TimerFired{ID: a.ID})
			}
		}
		t.Fatalf("no timeout timer: %v", types(b))
		return nil
	}
	batches := callbackRun(t, fire, CallbackTimedOut)
	in := New(waitThenCleanUp, Options{})
	defer in.Close()
	if err := in.Replay(batches); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if c := in.Closed(); c == nil || c.Type != history.TypeWorkflowCompleted {
		t.Fatalf("replayed run closed with %v", c)
	}
}

func TestCanceledScopeClosesItsCallback(t *testing.T) {
	fn := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		cctx, cancel := ctx.WithCancel()
		cb, f := cctx.StartCallback("review", 0, 0)
		if f != nil {
			return nil, errors.New("started under a live scope, got " + f.Message)
		}
		cancel()
		if _, f, _ := cctx.WaitCallback(cb.ID); f == nil {
			return nil, errors.New("the wait of a canceled scope returned no failure")
		}
		if _, f := cctx.StartCallback("again", 0, 0); f == nil {
			return nil, errors.New("a canceled scope started a callback")
		}
		return json.RawMessage(`"ok"`), nil
	}
	batches := live(t, fn)
	var got []history.EventType
	for _, b := range batches[1:] {
		got = append(got, types(b)...)
	}
	want := []history.EventType{history.TypeCallbackStarted, history.TypeVersionMarker, history.TypeCallbackTimedOut, history.TypeWorkflowCompleted}
	if len(got) != len(want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("history %v, want %v", got, want)
		}
	}
	in := New(fn, Options{})
	defer in.Close()
	if err := in.Replay(batches); err != nil {
		t.Fatalf("replay: %v", err)
	}
}

// TestCanceledCallbackWaitOfAnOldRunReplays: a run that went past a
// canceled wait before the change recorded no close (and no version
// marker); it replays with today's code and keeps its old behaviour.
func TestCanceledCallbackWaitOfAnOldRunReplays(t *testing.T) {
	in := New(waitThenCleanUp, Options{})
	defer in.Close()
	// What the code did before the change: the change is not in force.
	in.versionSeen = map[string]int{callbackClosesWhenAbandoned: DefaultVersion}
	batches := []history.Batch{startBatch()}
	if err := in.Replay(batches); err != nil {
		t.Fatal(err)
	}
	in.versionSeen = map[string]int{callbackClosesWhenAbandoned: DefaultVersion}
	exec := func(i int, inbound ...*history.Event) history.Batch {
		t.Helper()
		b, err := in.Execute(t0.Add(time.Duration(i)*time.Second), inbound)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
		return b
	}
	exec(1)
	b := exec(2, ev(history.TypeWorkflowCancelRequested, &history.WorkflowCancelRequested{Reason: "stop"}))
	var cleanup int64
	for _, e := range b {
		switch a := e.Attributes.(type) {
		case *history.CallbackTimedOut, *history.VersionMarker:
			t.Fatalf("the old behaviour recorded %s", e.Type)
		case *history.ActivityScheduled:
			cleanup = a.ID
		}
	}
	exec(3, completed(cleanup, `"cleaned"`))
	if in.Closed() == nil {
		t.Fatal("run did not close")
	}
	replay := New(waitThenCleanUp, Options{})
	defer replay.Close()
	if err := replay.Replay(batches); err != nil {
		t.Fatalf("an old run's history does not replay: %v", err)
	}
}
