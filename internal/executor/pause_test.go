package executor

import (
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
)

func ev(t history.EventType, attrs any) *history.Event {
	return &history.Event{Type: t, Attributes: attrs}
}

func types(b history.Batch) []history.EventType {
	var out []history.EventType
	for _, e := range b {
		out = append(out, e.Type)
	}
	return out
}

func TestPauseHoldsTheCodeAndReplaysAlike(t *testing.T) {
	in := New(twoActivities("A", "B"), Options{})
	defer in.Close()
	batches := []history.Batch{startBatch()}
	if err := in.Replay(batches); err != nil {
		t.Fatal(err)
	}
	step := func(i int, inbound ...*history.Event) history.Batch {
		t.Helper()
		b, err := in.Execute(t0.Add(time.Duration(i)*time.Second), inbound)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 {
			batches = append(batches, b)
		}
		return b
	}
	b := step(1)
	idA := b[0].Attributes.(*history.ActivityScheduled).ID
	step(2, ev(history.TypeWorkflowPaused, &history.WorkflowPaused{Reason: "ops"}))
	if b := step(3, ev(history.TypeWorkflowPaused, &history.WorkflowPaused{})); len(b) != 0 {
		t.Fatalf("a second pause was recorded: %v", types(b))
	}
	if b := step(4, completed(idA, `"A-done"`)); len(b) != 1 || b[0].Type != history.TypeActivityCompleted {
		t.Fatalf("while paused the code ran: %v", types(b))
	}
	if !in.Paused() {
		t.Fatal("not paused")
	}
	b = step(5, ev(history.TypeWorkflowResumed, &history.WorkflowResumed{}))
	if len(b) != 2 || b[1].Type != history.TypeActivityScheduled {
		t.Fatalf("resume did not run the code on: %v", types(b))
	}
	idB := b[1].Attributes.(*history.ActivityScheduled).ID
	step(6, completed(idB, `"B-done"`))
	if in.Closed() == nil {
		t.Fatal("run did not complete")
	}

	re := New(twoActivities("A", "B"), Options{})
	defer re.Close()
	if err := re.Replay(batches); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if re.Closed() == nil {
		t.Fatal("replay did not complete")
	}
	// Cut in the middle of the pause: still paused, the result applied
	// but not yet seen by the code.
	mid := New(twoActivities("A", "B"), Options{})
	defer mid.Close()
	if err := mid.Replay(batches[:4]); err != nil {
		t.Fatal(err)
	}
	if !mid.Paused() {
		t.Fatal("replay lost the pause")
	}
	b, err := mid.Execute(t0.Add(10*time.Second), []*history.Event{ev(history.TypeWorkflowResumed, &history.WorkflowResumed{})})
	if err != nil || len(b) != 2 || b[1].Type != history.TypeActivityScheduled {
		t.Fatalf("resume after replay: %v %v", types(b), err)
	}
}

func TestCancelWhilePausedWaitsForResume(t *testing.T) {
	in := New(twoActivities("A", "B"), Options{})
	defer in.Close()
	if err := in.Replay([]history.Batch{startBatch()}); err != nil {
		t.Fatal(err)
	}
	mustExec := func(i int, inbound ...*history.Event) history.Batch {
		t.Helper()
		b, err := in.Execute(t0.Add(time.Duration(i)*time.Second), inbound)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mustExec(1)
	mustExec(2, ev(history.TypeWorkflowPaused, &history.WorkflowPaused{}))
	cancel := func() *history.Event {
		return ev(history.TypeWorkflowCancelRequested, &history.WorkflowCancelRequested{Reason: "stop"})
	}
	if b := mustExec(3, cancel()); len(b) != 1 || b[0].Type != history.TypeWorkflowCancelRequested {
		t.Fatalf("cancel while paused: %v", types(b))
	}
	if b := mustExec(4, cancel()); len(b) != 0 {
		t.Fatalf("a repeated cancel was recorded: %v", types(b))
	}
	b := mustExec(5, ev(history.TypeWorkflowResumed, &history.WorkflowResumed{}))
	got := types(b)
	if len(got) < 2 || got[0] != history.TypeWorkflowResumed || got[1] != history.TypeActivityCancelRequested {
		t.Fatalf("resume did not apply the held cancel: %v", got)
	}
}
