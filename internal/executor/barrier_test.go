package executor

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
)

// barrierFlow schedules A, waits for that to be committed, runs a step
// (counting real executions), then waits for A.
func barrierFlow(steps *int) WorkflowFunc {
	return func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		a := ctx.ScheduleActivity("A", in, history.ActivityOptions{})
		ctx.AwaitCommitted()
		if _, f := ctx.Step("s", func() (json.RawMessage, error) { *steps++; return json.RawMessage(`1`), nil }); f != nil {
			return nil, f
		}
		r, err := a.Get(ctx.Coroutine())
		if err != nil {
			return nil, err
		}
		return r.(json.RawMessage), nil
	}
}

func TestAwaitCommittedSplitsTheTask(t *testing.T) {
	for _, merged := range []bool{false, true} {
		steps := 0
		in := New(barrierFlow(&steps), Options{})
		batches := []history.Batch{startBatch()}
		if err := in.Replay(batches); err != nil {
			t.Fatal(err)
		}
		b1, err := in.Execute(t0.Add(time.Second), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(b1) != 1 || b1[0].Type != history.TypeActivityScheduled || !in.AwaitingCommit() || steps != 0 {
			t.Fatalf("first task: %d events, awaiting %v, steps %d", len(b1), in.AwaitingCommit(), steps)
		}
		batches = append(batches, b1)
		var inbound []*history.Event
		if merged {
			// The follow-up execution may carry new events too.
			inbound = []*history.Event{completed(b1[0].Attributes.(*history.ActivityScheduled).ID, `"A-done"`)}
		}
		b2, err := in.Execute(t0.Add(2*time.Second), inbound)
		if err != nil {
			t.Fatal(err)
		}
		if steps != 1 || b2[0].Type != history.TypeStepCompleted || in.AwaitingCommit() {
			t.Fatalf("follow-up: steps %d, first event %s", steps, b2[0].Type)
		}
		batches = append(batches, b2)
		if !merged {
			b3, err := in.Execute(t0.Add(3*time.Second), []*history.Event{completed(b1[0].Attributes.(*history.ActivityScheduled).ID, `"A-done"`)})
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, b3)
		}
		in.Close()
		if in.Closed() == nil || in.Closed().Type != history.TypeWorkflowCompleted {
			t.Fatalf("merged=%v: run did not complete", merged)
		}

		re := New(barrierFlow(&steps), Options{})
		if err := re.Replay(batches); err != nil {
			t.Fatalf("merged=%v: replay: %v", merged, err)
		}
		if re.Closed() == nil || steps != 1 {
			t.Fatalf("merged=%v: replay closed %v, steps %d", merged, re.Closed() != nil, steps)
		}
		re.Close()

		// A crash after the first commit: replay ends waiting, and the
		// next execution runs the step.
		cut := New(barrierFlow(&steps), Options{})
		if err := cut.Replay(batches[:2]); err != nil {
			t.Fatal(err)
		}
		if !cut.AwaitingCommit() {
			t.Fatal("replay up to the barrier does not wait for the commit")
		}
		b, err := cut.Execute(t0.Add(5*time.Second), nil)
		if err != nil || len(b) == 0 || b[0].Type != history.TypeStepCompleted || steps != 2 {
			t.Fatalf("resumed follow-up: %v %v steps %d", b, err, steps)
		}
		cut.Close()
	}
}

func TestAwaitCommittedWithNothingPendingDoesNotWait(t *testing.T) {
	steps := 0
	in := New(func(ctx *Ctx, _ json.RawMessage) (json.RawMessage, error) {
		ctx.AwaitCommitted()
		_, f := ctx.Step("s", func() (json.RawMessage, error) { steps++; return nil, nil })
		if f != nil {
			return nil, f
		}
		return nil, nil
	}, Options{})
	defer in.Close()
	if err := in.Replay([]history.Batch{startBatch()}); err != nil {
		t.Fatal(err)
	}
	b, err := in.Execute(t0.Add(time.Second), nil)
	if err != nil || steps != 1 || in.AwaitingCommit() || in.Closed() == nil {
		t.Fatalf("batch %v err %v steps %d", b, err, steps)
	}
}
