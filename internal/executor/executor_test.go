package executor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func startBatch() history.Batch {
	return history.Batch{{Seq: 1, Time: t0, Type: history.TypeWorkflowStarted, Attributes: &history.WorkflowStarted{
		WorkflowType: "W", WorkflowID: "wf", Run: "r1", TaskQueue: "q", Input: json.RawMessage(`"in"`), RandomSeed: 7}}}
}

// twoActivities schedules a, waits, then schedules b.
func twoActivities(a, b string) WorkflowFunc {
	return func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		co := ctx.Coroutine
		r1, err := ctx.ScheduleActivity(a, in, history.ActivityOptions{}).Get(co())
		if err != nil {
			return nil, err
		}
		_ = r1
		r2, err := ctx.ScheduleActivity(b, in, history.ActivityOptions{}).Get(co())
		if err != nil {
			return nil, err
		}
		return r2.(json.RawMessage), nil
	}
}

func completed(id int64, result string) *history.Event {
	return &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{ID: id, Attempt: 1, Result: json.RawMessage(result)}}
}

// live runs fn through its whole life, feeding each scheduled activity a
// result, and returns the committed batches.
func live(t *testing.T, fn WorkflowFunc) []history.Batch {
	t.Helper()
	in := New(fn, Options{})
	defer in.Close()
	batches := []history.Batch{startBatch()}
	if err := in.Replay(batches); err != nil {
		t.Fatal(err)
	}
	var inbound []*history.Event
	for i := 0; i < 10 && in.Closed() == nil; i++ {
		b, err := in.Execute(t0.Add(time.Duration(i+1)*time.Second), inbound)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
		inbound = nil
		for _, ev := range b {
			if a, ok := ev.Attributes.(*history.ActivityScheduled); ok {
				inbound = append(inbound, completed(a.ID, `"`+a.ActivityType+`-done"`))
			}
		}
	}
	if in.Closed() == nil {
		t.Fatal("workflow did not close")
	}
	return batches
}

func TestReplayOfLiveHistoryIsClean(t *testing.T) {
	batches := live(t, twoActivities("A", "B"))
	in := New(twoActivities("A", "B"), Options{})
	defer in.Close()
	if err := in.Replay(batches); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if in.Closed() == nil || in.Closed().Type != history.TypeWorkflowCompleted {
		t.Fatalf("replayed run not completed: %v", in.Closed())
	}
	last := batches[len(batches)-1]
	if in.LastSeq() != last[len(last)-1].Seq {
		t.Fatalf("last seq %d, history ends at %d", in.LastSeq(), last[len(last)-1].Seq)
	}
}

func TestReplayDetectsChangedCommand(t *testing.T) {
	batches := live(t, twoActivities("A", "B"))
	in := New(twoActivities("A", "C"), Options{})
	defer in.Close()
	err := in.Replay(batches)
	var nde *NonDeterminismError
	if !errors.As(err, &nde) {
		t.Fatalf("replay error %v, want NonDeterminismError", err)
	}
	if nde.WorkflowID != "wf" || nde.Run != "r1" || nde.EventSeq != 4 ||
		nde.Expected != "ActivityScheduled(B)" || nde.Actual != "ActivityScheduled(C)" {
		t.Fatalf("error %+v", nde)
	}
	if !strings.Contains(nde.Location, "executor_test.go") {
		t.Fatalf("location %q does not point at the workflow code", nde.Location)
	}
}

func TestReplayDetectsMissingCommand(t *testing.T) {
	batches := live(t, twoActivities("A", "B"))
	// The new code waits forever after A instead of scheduling B.
	stuck := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		if _, err := ctx.ScheduleActivity("A", in, history.ActivityOptions{}).Get(ctx.Coroutine()); err != nil {
			return nil, err
		}
		ctx.Coroutine().Block(func() bool { return false })
		return nil, nil
	}
	in := New(stuck, Options{})
	defer in.Close()
	var nde *NonDeterminismError
	if err := in.Replay(batches); !errors.As(err, &nde) || nde.Expected != "ActivityScheduled(B)" {
		t.Fatalf("replay error %v", err)
	}
}

func TestReplayDetectsExtraCommand(t *testing.T) {
	batches := live(t, twoActivities("A", "B"))
	extra := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		ctx.ScheduleActivity("X", in, history.ActivityOptions{})
		return twoActivities("A", "B")(ctx, in)
	}
	in := New(extra, Options{})
	defer in.Close()
	var nde *NonDeterminismError
	if err := in.Replay(batches); !errors.As(err, &nde) || nde.Actual != "ActivityScheduled(X)" {
		t.Fatalf("replay error %v", err)
	}
}

func TestPanicIsATaskFailure(t *testing.T) {
	boom := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) { panic("boom") }
	in := New(boom, Options{})
	defer in.Close()
	if err := in.Replay([]history.Batch{startBatch()}); err != nil {
		t.Fatal(err)
	}
	_, err := in.Execute(t0, nil)
	var tpe *TaskPanicError
	if !errors.As(err, &tpe) || tpe.Value != "boom" || tpe.Stack == "" {
		t.Fatalf("execute error %v", err)
	}
	if _, err := in.Execute(t0, nil); !errors.As(err, &tpe) {
		t.Fatal("a failed instance accepted another task")
	}
}

func TestStaleAndDuplicateInboundAreDropped(t *testing.T) {
	in := New(twoActivities("A", "B"), Options{})
	defer in.Close()
	if err := in.Replay([]history.Batch{startBatch()}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Execute(t0, nil); err != nil {
		t.Fatal(err)
	}
	stale := &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{ID: 1, Attempt: 2}}
	unknown := completed(99, `1`)
	b, err := in.Execute(t0, []*history.Event{stale, unknown, completed(1, `"x"`), completed(1, `"y"`)})
	if err != nil {
		t.Fatal(err)
	}
	// One completion accepted, then B scheduled.
	if len(b) != 2 || b[0].Type != history.TypeActivityCompleted || b[1].Type != history.TypeActivityScheduled {
		t.Fatalf("batch %v", b)
	}
	if got := string(b[0].Attributes.(*history.ActivityCompleted).Result); got != `"x"` {
		t.Fatalf("accepted result %s, want the first", got)
	}
}

func TestRetryPolicyTurnsFailuresIntoRetries(t *testing.T) {
	fn := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		_, err := ctx.ScheduleActivity("A", in, history.ActivityOptions{Retry: &history.RetryPolicy{
			InitialInterval: history.Duration(time.Second), MaximumAttempts: 2}}).Get(ctx.Coroutine())
		return nil, err
	}
	in := New(fn, Options{})
	defer in.Close()
	_ = in.Replay([]history.Batch{startBatch()})
	if _, err := in.Execute(t0, nil); err != nil {
		t.Fatal(err)
	}
	fail := func(attempt int) *history.Event {
		return &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{ID: 1, Attempt: attempt,
			Failure: &history.Failure{Type: "E", Message: "no"}}}
	}
	b, _ := in.Execute(t0, []*history.Event{fail(1)})
	r, ok := b[0].Attributes.(*history.ActivityRetrying)
	if !ok || r.NextAttemptAt != t0.Add(time.Second) {
		t.Fatalf("first failure: %v", b)
	}
	b, _ = in.Execute(t0.Add(time.Second), []*history.Event{fail(2)})
	if b[0].Type != history.TypeActivityFailed || b[1].Type != history.TypeWorkflowFailed {
		t.Fatalf("second failure: %v %v", b[0].Type, b[1].Type)
	}
}

func TestLogsAreDroppedWhileReplaying(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	fn := func(ctx *Ctx, in json.RawMessage) (json.RawMessage, error) {
		ctx.Instance().Logger().Info("before")
		if _, err := ctx.ScheduleActivity("A", in, history.ActivityOptions{}).Get(ctx.Coroutine()); err != nil {
			return nil, err
		}
		ctx.Instance().Logger().Info("after")
		return nil, nil
	}
	batches := live(t, fn)
	buf.Reset()
	in := New(fn, Options{Logger: logger})
	defer in.Close()
	if err := in.Replay(batches); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("replay logged: %s", buf.String())
	}
}

func TestHistoryLimitErrorNamesInstanceSequenceAndCause(t *testing.T) {
	for _, e := range []*HistoryLimitError{
		{WorkflowID: "order-1", Run: "r1", EventSeq: 101, Measure: HistoryEvents, Value: 101, Limit: 100},
		{WorkflowID: "order-1", Run: "r1", EventSeq: 40, Measure: HistoryBytes, Value: 2048, Limit: 1024},
	} {
		msg := e.Error()
		for _, want := range []string{`"order-1"`, "run r1", fmt.Sprintf("at event %d", e.EventSeq), fmt.Sprintf("%d %s", e.Value, e.Measure), fmt.Sprintf("limit of %d", e.Limit), "continue as new"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%q lacks %q", msg, want)
			}
		}
		if f := e.Failure(); f.Type != FailureHistoryLimit || !f.NonRetryable || f.Message != msg {
			t.Errorf("Failure() = %+v", f)
		}
	}
}
