package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

func Add(ctx context.Context, in [2]int) (int, error) { return in[0] + in[1], nil }

func Sequential(ctx workflow.Context, n int) (int, error) {
	sum := 0
	for i := 0; i < n; i++ {
		v, err := workflow.ExecuteActivity(ctx, Add, [2]int{sum, i}).Get(ctx)
		if err != nil {
			return 0, err
		}
		sum = v
	}
	return sum, nil
}

func FanOut(ctx workflow.Context, n int) (int, error) {
	futures := make([]workflow.Future[int], n)
	for i := range futures {
		futures[i] = workflow.ExecuteActivity(ctx, Add, [2]int{i, i})
	}
	sum := 0
	for _, f := range futures {
		v, err := f.Get(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

func registerBasics(w *worker.Worker) {
	w.RegisterWorkflow(Sequential)
	w.RegisterWorkflow(FanOut)
	w.RegisterActivity(Add)
}

func TestTenSequentialActivities(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBasics)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	run, err := c.Start(ctx, client.StartOptions{ID: "seq"}, Sequential, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != 45 {
		t.Fatalf("result %d, want 45", got)
	}
	events := checkHistory(t, c, "seq")
	if n := count(events, history.TypeActivityCompleted); n != 10 {
		t.Fatalf("%d activities completed, want 10", n)
	}
}

func TestFanOutHundredActivities(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBasics)
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	run, err := c.Start(ctx, client.StartOptions{ID: "fan"}, FanOut, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != 9900 {
		t.Fatalf("result %d, want 9900", got)
	}
	events := checkHistory(t, c, "fan")
	if n := count(events, history.TypeActivityCompleted); n != 100 {
		t.Fatalf("%d activities completed, want 100", n)
	}
}

// flaky fails its first two attempts.
type flaky struct{ calls atomic.Int32 }

func (f *flaky) Flaky(ctx context.Context, _ string) (int, error) {
	f.calls.Add(1)
	if a := activity.GetInfo(ctx).Attempt; a < 3 {
		return 0, fmt.Errorf("attempt %d fails", a)
	}
	return activity.GetInfo(ctx).Attempt, nil
}

func Declined(ctx context.Context, _ string) (int, error) {
	return 0, failure.New("card declined", "CardDeclined")
}

func RetryWorkflow(ctx workflow.Context, name string) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{RetryPolicy: &workflow.RetryPolicy{
		InitialInterval: 50 * time.Millisecond, MaximumAttempts: 5, NonRetryableErrorTypes: []string{"CardDeclined"}}})
	return workflow.ExecuteActivityByName[int](ctx, name, "x").Get(ctx)
}

func TestRetryPolicy(t *testing.T) {
	env := testenv.New(t)
	f := &flaky{}
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(RetryWorkflow)
		w.RegisterActivity(f.Flaky)
		w.RegisterActivity(Declined)
	})
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)

	t.Run("fails twice then succeeds", func(t *testing.T) {
		run, err := c.Start(ctx, client.StartOptions{ID: "flaky"}, RetryWorkflow, "Flaky")
		if err != nil {
			t.Fatal(err)
		}
		var attempt int
		if err := run.Get(ctx, &attempt); err != nil {
			t.Fatal(err)
		}
		if attempt != 3 || f.calls.Load() != 3 {
			t.Fatalf("completed on attempt %d after %d calls, want 3 and 3", attempt, f.calls.Load())
		}
		events := checkHistory(t, c, "flaky")
		if n := count(events, history.TypeActivityRetrying); n != 2 {
			t.Fatalf("%d retries in history, want 2", n)
		}
	})
	t.Run("non-retryable fails at once", func(t *testing.T) {
		run, err := c.Start(ctx, client.StartOptions{ID: "declined"}, RetryWorkflow, "Declined")
		if err != nil {
			t.Fatal(err)
		}
		err = run.Get(ctx, nil)
		var wfErr *failure.WorkflowError
		var actErr *failure.ActivityError
		var appErr *failure.ApplicationError
		if !errors.As(err, &wfErr) || !errors.As(err, &actErr) || !errors.As(err, &appErr) {
			t.Fatalf("error %v (%T) is not workflow→activity→application", err, err)
		}
		if appErr.Type != "CardDeclined" || actErr.Attempt != 1 {
			t.Fatalf("got type %q attempt %d, want CardDeclined at attempt 1", appErr.Type, actErr.Attempt)
		}
		events := checkHistory(t, c, "declined")
		if n := count(events, history.TypeActivityRetrying); n != 0 {
			t.Fatalf("%d retries for a non-retryable error", n)
		}
	})
}
