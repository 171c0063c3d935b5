package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

func AlwaysFails(ctx context.Context, _ struct{}) (string, error) { return "", errors.New("down") }

// ScheduleToClose retries a failing activity until its overall deadline.
func ScheduleToClose(ctx workflow.Context, _ struct{}) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ScheduleToCloseTimeout: 700 * time.Millisecond,
		RetryPolicy:            &workflow.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 1},
	})
	return workflow.ExecuteActivity(ctx, AlwaysFails, struct{}{}).Get(ctx)
}

func TestScheduleToCloseEndsRetries(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(ScheduleToClose)
		w.RegisterActivity(AlwaysFails)
	})
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "s2c"}, ScheduleToClose, struct{}{}); err != nil {
		t.Fatal(err)
	}
	err := c.Result(ctx, "s2c", "", nil)
	var act *failure.ActivityError
	var to *failure.TimeoutError
	var app *failure.ApplicationError
	if !errors.As(err, &act) || !(errors.As(err, &to) || errors.As(err, &app)) || act.RetryState != failure.RetryStateTimeout {
		t.Fatalf("result %v (retry state %q)", err, act.RetryState)
	}
	events := checkHistory(t, c, "s2c")
	if n := count(events, history.TypeActivityRetrying); n < 2 {
		t.Fatalf("only %d retries before the deadline", n)
	}
	var scheduled, closed time.Time
	for _, ev := range events {
		switch ev.Type {
		case history.TypeActivityScheduled:
			scheduled = ev.Time
		case history.TypeActivityFailed:
			closed = ev.Time
		}
	}
	if closed.Sub(scheduled) > 5*time.Second {
		t.Fatalf("activity closed %v after scheduling, deadline was 700ms", closed.Sub(scheduled))
	}
}

func TestExecutionTimeoutClosesTheRun(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerTimers)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "slow", WorkflowExecutionTimeout: 300 * time.Millisecond}, SleepFor, time.Hour); err != nil {
		t.Fatal(err)
	}
	err := c.Result(ctx, "slow", "", nil)
	var to *failure.TimeoutError
	if !errors.As(err, &to) || to.Kind != failure.TimeoutWorkflowExecution {
		t.Fatalf("result %v", err)
	}
	d, err := c.Describe(ctx, "slow", "")
	if err != nil || d.Status != history.StatusTimedOut {
		t.Fatalf("describe %+v %v", d, err)
	}
	checkHistory(t, c, "slow")
}

func TestReusePolicies(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBasics)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	first, err := c.Start(ctx, client.StartOptions{ID: "reuse"}, Sequential, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx, client.StartOptions{ID: "reuse", WorkflowIDReusePolicy: client.WorkflowIDReusePolicyRejectDuplicate}, Sequential, 2); !errors.Is(err, client.ErrAlreadyExists) {
		t.Fatalf("reject duplicate: %v", err)
	}
	if _, err := c.Start(ctx, client.StartOptions{ID: "reuse", WorkflowIDReusePolicy: client.WorkflowIDReusePolicyAllowDuplicateFailedOnly}, Sequential, 2); !errors.Is(err, client.ErrAlreadyExists) {
		t.Fatalf("failed-only after success: %v", err)
	}
	second, err := c.Start(ctx, client.StartOptions{ID: "reuse"}, Sequential, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Created || second.Run == first.Run {
		t.Fatalf("second run %+v", second)
	}
	var got int
	if err := second.Get(ctx, &got); err != nil || got != 3 {
		t.Fatalf("second run result %d %v", got, err)
	}
	// Both runs stay readable.
	var firstResult int
	if err := c.Result(ctx, "reuse", first.Run, &firstResult); err != nil || firstResult != 1 {
		t.Fatalf("first run result %d %v", firstResult, err)
	}
	h, err := c.History(ctx, "reuse", first.Run)
	if err != nil || h[0].Attributes.(*history.WorkflowStarted).Run != first.Run {
		t.Fatalf("first run history: %v", err)
	}
	checkHistory(t, c, "reuse")
}

func TestTinyCacheEvictsAndReplays(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBasics, worker.WithMaxCachedWorkflows(2))
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	const n = 20
	for i := range n {
		if _, err := c.Start(ctx, client.StartOptions{ID: fmt.Sprintf("evict-%d", i)}, Sequential, 10); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("evict-%d", i)
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil || got != 45 {
			t.Fatalf("%s: %d %v", id, got, err)
		}
		checkHistory(t, c, id)
	}
}
