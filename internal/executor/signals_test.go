package executor

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
)

// sleepThenSignal sleeps a minute, then takes the signal "go" with a one
// hour timeout.
func sleepThenSignal(ctx *Ctx, _ json.RawMessage) (json.RawMessage, error) {
	if _, err := ctx.NewTimer(time.Minute, "nap").Get(ctx.Coroutine()); err != nil {
		return nil, err
	}
	payload, ok, f := ctx.WaitSignal("go", time.Hour)
	if f != nil || !ok {
		return nil, &history.Failure{Message: "no signal"}
	}
	return payload, nil
}

// TestWaitSignalWithTimeoutTakesABufferedSignalWithoutATimer: a signal
// that is already buffered is taken without starting and canceling a
// timer; the change is recorded once (a version marker), so the history
// replays, and runs from before it keep their timer.
func TestWaitSignalWithTimeoutTakesABufferedSignalWithoutATimer(t *testing.T) {
	in := New(sleepThenSignal, Options{})
	defer in.Close()
	batches := []history.Batch{startBatch()}
	if err := in.Replay(batches); err != nil {
		t.Fatal(err)
	}
	b1, err := in.Execute(t0.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	var nap int64
	for _, ev := range b1 {
		if a, ok := ev.Attributes.(*history.TimerStarted); ok {
			nap = a.ID
		}
	}
	sig := &history.Event{Type: history.TypeSignalReceived, Attributes: &history.SignalReceived{Name: "go", ID: "s1", Payload: json.RawMessage(`"ok"`)}}
	b2, err := in.Execute(t0.Add(2*time.Second), []*history.Event{sig})
	if err != nil {
		t.Fatal(err)
	}
	fired := &history.Event{Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: nap}}
	b3, err := in.Execute(t0.Add(time.Minute+time.Second), []*history.Event{fired})
	if err != nil {
		t.Fatal(err)
	}
	if in.Closed() == nil || in.Closed().Type != history.TypeWorkflowCompleted {
		t.Fatalf("run not completed: %v", b3)
	}
	markers := 0
	for _, ev := range b3 {
		switch a := ev.Attributes.(type) {
		case *history.TimerStarted:
			t.Fatalf("a timer was started for a signal already buffered: %+v", a)
		case *history.VersionMarker:
			markers++
		}
	}
	if markers != 1 {
		t.Fatalf("%d version markers, want 1: %v", markers, b3)
	}
	replay := New(sleepThenSignal, Options{})
	defer replay.Close()
	if err := replay.Replay(append(batches, b1, b2, b3)); err != nil {
		t.Fatalf("replay: %v", err)
	}
}

// oldSignalWait records what WaitSignal with a timeout recorded before the
// change for a signal already buffered: a timer started and canceled.
func oldSignalWait(ctx *Ctx, _ json.RawMessage) (json.RawMessage, error) {
	if _, err := ctx.NewTimer(time.Minute, "nap").Get(ctx.Coroutine()); err != nil {
		return nil, err
	}
	tctx, cancel := ctx.WithCancel()
	tctx.NewTimer(time.Hour, "wait go")
	cancel()
	payload, _, _ := ctx.WaitSignal("go", 0)
	return payload, nil
}

// TestWaitSignalReplaysHistoriesFromBeforeTheChange: a run that recorded
// the timer of a buffered signal's wait replays with today's code.
func TestWaitSignalReplaysHistoriesFromBeforeTheChange(t *testing.T) {
	old := New(oldSignalWait, Options{})
	defer old.Close()
	batches := []history.Batch{startBatch()}
	if err := old.Replay(batches); err != nil {
		t.Fatal(err)
	}
	b1, err := old.Execute(t0.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	sig := &history.Event{Type: history.TypeSignalReceived, Attributes: &history.SignalReceived{Name: "go", ID: "s1", Payload: json.RawMessage(`"ok"`)}}
	b2, err := old.Execute(t0.Add(2*time.Second), []*history.Event{sig})
	if err != nil {
		t.Fatal(err)
	}
	fired := &history.Event{Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: b1[0].Attributes.(*history.TimerStarted).ID}}
	b3, err := old.Execute(t0.Add(time.Minute+time.Second), []*history.Event{fired})
	if err != nil {
		t.Fatal(err)
	}
	if count := func() (n int) {
		for _, ev := range b3 {
			if ev.Type == history.TypeTimerStarted {
				n++
			}
		}
		return
	}(); count != 1 || old.Closed() == nil {
		t.Fatalf("the old-style history is not what it was: %v", b3)
	}
	replay := New(sleepThenSignal, Options{})
	defer replay.Close()
	if err := replay.Replay(append(batches, b1, b2, b3)); err != nil {
		t.Fatalf("a history from before the change does not replay: %v", err)
	}
}
