package e2e

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

func Where(ctx context.Context, _ struct{}) (string, error) { return activity.GetInfo(ctx).Queue, nil }

// Routed runs one activity on its own queue and one on the "gpu" queue.
func Routed(ctx workflow.Context, _ struct{}) ([]string, error) {
	a, err := workflow.ExecuteActivity(ctx, Where, struct{}{}).Get(ctx)
	if err != nil {
		return nil, err
	}
	gctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: "gpu"})
	b, err := workflow.ExecuteActivity(gctx, Where, struct{}{}).Get(gctx)
	return []string{a, b}, err
}

func TestTaskQueuesAndNamespacesRoute(t *testing.T) {
	env := testenv.New(t, testenv.WithNamespace("team-a"))
	env.StartWorker(t, "orders", func(w *worker.Worker) {
		w.RegisterWorkflow(Routed)
		w.RegisterActivity(Where)
	})
	env.StartWorker(t, "gpu", func(w *worker.Worker) { w.RegisterActivity(Where) })
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	run, err := c.Start(ctx, client.StartOptions{ID: "routed", TaskQueue: "orders"}, Routed, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "orders" || got[1] != "gpu" {
		t.Fatalf("activities ran on %v, want [orders gpu]", got)
	}
	// Another namespace sees nothing of team-a.
	other, err := client.New(ctx, env.Conn(), client.WithNamespace("team-b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Describe(ctx, "routed", ""); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("team-b sees team-a's workflow: %v", err)
	}
	if _, err := other.Start(ctx, client.StartOptions{ID: "x", TaskQueue: "orders"}, Routed, struct{}{}); !errors.Is(err, client.ErrUnknownWorkflowType) {
		t.Fatalf("team-b start of team-a's type: %v", err)
	}
}

func TestRunWaitsWhileItsWorkersAreDown(t *testing.T) {
	env := testenv.New(t)
	w := env.StartWorker(t, "default", registerBasics)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	w.Stop()
	// The type is known (a worker registered it once), so the start is
	// accepted and waits.
	if _, err := c.Start(ctx, client.StartOptions{ID: "waits"}, Sequential, 2); err != nil {
		t.Fatal(err)
	}
	d, err := c.Describe(ctx, "waits", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != history.StatusRunning || d.Waiting == "" {
		t.Fatalf("describe: status %s, waiting %q", d.Status, d.Waiting)
	}
	env.StartWorker(t, "default", registerBasics)
	var got int
	if err := c.Result(ctx, "waits", "", &got); err != nil || got != 1 {
		t.Fatalf("result %d, %v", got, err)
	}
}

// Stall never returns on the first worker (it stops heartbeating), so the
// engine times it out and the retry completes on the second worker.
type stall struct {
	name  string
	stuck bool
	runs  *atomic.Int32
}

func (s stall) Stall(ctx context.Context, _ struct{}) (string, error) {
	s.runs.Add(1)
	if s.stuck {
		<-ctx.Done()
		return "", ctx.Err()
	}
	return s.name, nil
}

func HeartbeatWorkflow(ctx workflow.Context, _ struct{}) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		HeartbeatTimeout: 300 * time.Millisecond,
		RetryPolicy:      &workflow.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumAttempts: 20},
	})
	return workflow.ExecuteActivityByName[string](ctx, "Stall", struct{}{}).Get(ctx)
}

func TestStoppedHeartbeatTimesOutAndRetriesElsewhere(t *testing.T) {
	env := testenv.New(t)
	var aRuns, bRuns atomic.Int32
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(HeartbeatWorkflow)
		w.RegisterActivity(stall{name: "A", stuck: true, runs: &aRuns}.Stall, worker.WithName("Stall"))
	})
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "hb"}, HeartbeatWorkflow, struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return aRuns.Load() > 0 })
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterActivity(stall{name: "B", runs: &bRuns}.Stall, worker.WithName("Stall"))
	})
	var got string
	if err := c.Result(ctx, "hb", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != "B" {
		t.Fatalf("completed by %q", got)
	}
	events := checkHistory(t, c, "hb")
	timedOut := false
	for _, ev := range events {
		if a, ok := ev.Attributes.(*history.ActivityRetrying); ok && a.Failure.Type == history.FailureTimeout {
			timedOut = true
		}
	}
	if !timedOut {
		t.Fatal("no heartbeat timeout recorded before the retry")
	}
}
