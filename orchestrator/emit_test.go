package orchestrator

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// twoTimers starts a short and a long timer and waits for the short one.
func twoTimers(ctx *executor.Ctx, _ json.RawMessage) (json.RawMessage, error) {
	short := ctx.NewTimer(time.Minute, "short")
	ctx.NewTimer(24*time.Hour, "long")
	if _, err := short.Get(ctx.Coroutine()); err != nil {
		return nil, err
	}
	return nil, nil
}

// firstTask starts run r1 of workflow wf with fn at now and runs its first
// task: the instance, the start batch and the task's batch.
func firstTask(t *testing.T, fn executor.WorkflowFunc, now time.Time) (*executor.Instance, history.Batch, history.Batch) {
	t.Helper()
	start := history.Batch{{Seq: 1, Time: now, Type: history.TypeWorkflowStarted, Attributes: &history.WorkflowStarted{
		WorkflowType: "W", WorkflowID: "wf", Run: "r1", TaskQueue: "q", Input: json.RawMessage(`null`)}}}
	in := executor.New(fn, executor.Options{})
	t.Cleanup(in.Close)
	if err := in.Replay([]history.Batch{start}); err != nil {
		t.Fatal(err)
	}
	b, err := in.Execute(now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in, start, b
}

// TestArmLoadedTimers: a loaded run's open timers due within the local
// horizon are armed in process (the worker that armed them may be gone);
// fired and far-off ones are not.
func TestArmLoadedTimers(t *testing.T) {
	now := time.Now()
	in, start, b := firstTask(t, twoTimers, now)
	w := &Worker{names: streams.NewNames("ns"), queue: "q"}
	w.opts.defaults()
	w.local = timers.NewLocal(func(timers.Key) {})
	defer w.local.Close()
	e := &entry{id: "wf", inst: in}
	w.armLoadedTimers(e, []history.Batch{start, b})
	if n := w.local.Len(); n != 1 {
		t.Fatalf("%d timers armed, want 1 (the one due within the horizon)", n)
	}

	// Once the short timer fired, nothing within the horizon is open.
	var shortID int64
	for _, ev := range b {
		if a, ok := ev.Attributes.(*history.TimerStarted); ok && a.Name == "short" {
			shortID = a.ID
		}
	}
	fire := &history.Event{Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: shortID}}
	b2, err := in.Execute(now.Add(time.Minute), []*history.Event{fire})
	if err != nil {
		t.Fatal(err)
	}
	w.local.RemoveInstance("wf")
	w.armLoadedTimers(e, []history.Batch{start, b, b2})
	if n := w.local.Len(); n != 0 {
		t.Fatalf("%d timers armed after the short one fired, want 0", n)
	}
}
