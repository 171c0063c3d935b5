package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

func Step1(ctx context.Context, in string) (string, error) { return in + "-1", nil }
func Step2(ctx context.Context, in string) (string, error) { return in + "-2", nil }

// Versioned v1 sleeps then runs Step1; v2 (the incompatible change) runs
// Step2 where v1 had its timer.
func versionedV1(ctx workflow.Context, in string) (string, error) {
	if err := workflow.Sleep(ctx, 300*time.Millisecond); err != nil {
		return "", err
	}
	return workflow.ExecuteActivity(ctx, Step1, in+"-s").Get(ctx)
}

func versionedV2(ctx workflow.Context, in string) (string, error) {
	a, err := workflow.ExecuteActivity(ctx, Step2, in).Get(ctx)
	if err != nil {
		return "", err
	}
	return workflow.ExecuteActivity(ctx, Step1, a).Get(ctx)
}

func register(fn any) func(w *worker.Worker) {
	return func(w *worker.Worker) {
		w.RegisterWorkflow(fn, worker.WithName("Versioned"))
		w.RegisterActivity(Step1)
		w.RegisterActivity(Step2)
	}
}

func TestNonDeterministicChangeParksAndResumes(t *testing.T) {
	env := testenv.New(t)
	v1 := env.StartWorker(t, "default", register(versionedV1))
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "nd"}, "Versioned", "x"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "nd", "")
		return err == nil && len(d.PendingTimers) == 1
	})
	before, err := c.History(ctx, "nd", "")
	if err != nil {
		t.Fatal(err)
	}
	// Deploy the bad code: the old worker dies, the new one must replay.
	v1.Kill()
	v2 := env.StartWorker(t, "default", register(versionedV2))
	var d *client.Description
	waitFor(t, ctx, func() bool {
		d, err = c.Describe(ctx, "nd", "")
		return err == nil && d.Parked != nil
	})
	if d.Parked.Type != executor.FailureNonDeterminism {
		t.Fatalf("parked with %s, want %s", d.Parked.Type, executor.FailureNonDeterminism)
	}
	for _, want := range []string{`"nd"`, "at event 2", "TimerStarted", "ActivityScheduled(Step2)", "determinism_test.go"} {
		if !strings.Contains(d.Parked.Message, want) {
			t.Errorf("non-determinism error %q does not mention %q", d.Parked.Message, want)
		}
	}
	// History is untouched while parked, however long it stays parked.
	time.Sleep(500 * time.Millisecond)
	after, err := c.History(ctx, "nd", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("history changed while parked: %d events, then %d", len(before), len(after))
	}
	// Restore the code: the instance resumes and completes.
	v2.Stop()
	env.StartWorker(t, "default", register(versionedV1))
	var got string
	if err := c.Result(ctx, "nd", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != "x-s-1" {
		t.Fatalf("result %q, want x-s-1", got)
	}
	d, err = c.Describe(ctx, "nd", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != history.StatusCompleted {
		t.Fatalf("status %s", d.Status)
	}
	// The listing index follows history shortly after the close.
	waitFor(t, ctx, func() bool {
		sum, err := c.List(ctx, client.ListOptions{})
		return err == nil && len(sum) == 1 && sum[0].Parked == nil && sum[0].Status == history.StatusCompleted
	})
	checkHistory(t, c, "nd")
}

// GetVersion lets a change ship without breaking running instances.
func patchedV2(ctx workflow.Context, in string) (string, error) {
	var a string
	var err error
	if workflow.GetVersion(ctx, "step2-first", workflow.DefaultVersion, 1) == 1 {
		a, err = workflow.ExecuteActivity(ctx, Step2, in).Get(ctx)
	} else {
		err = workflow.Sleep(ctx, 300*time.Millisecond)
		a = in + "-s"
	}
	if err != nil {
		return "", err
	}
	return workflow.ExecuteActivity(ctx, Step1, a).Get(ctx)
}

func TestGetVersionKeepsOldRunsOnOldPath(t *testing.T) {
	env := testenv.New(t)
	v1 := env.StartWorker(t, "default", register(versionedV1))
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "old"}, "Versioned", "o"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "old", "")
		return err == nil && len(d.PendingTimers) == 1
	})
	v1.Kill()
	env.StartWorker(t, "default", register(patchedV2))
	var got string
	if err := c.Result(ctx, "old", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != "o-s-1" {
		t.Fatalf("old run: %q, want o-s-1", got)
	}
	if _, err := c.Start(ctx, client.StartOptions{ID: "new"}, "Versioned", "n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Result(ctx, "new", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != "n-2-1" {
		t.Fatalf("new run: %q, want n-2-1", got)
	}
}

// waitFor waits for cond until ctx's deadline (testutil.Eventually).
func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	timeout := time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	testutil.EventuallyTrue(t, timeout, cond, "condition not met")
}

// TestUnregisteredTypeParksAndResumes: an instance whose workflow type the
// worker owning its partition does not serve is parked with a clear error
// (describe and list show it), not retried in silence, and completes once
// a worker that serves the type takes the queue.
func TestUnregisteredTypeParksAndResumes(t *testing.T) {
	env := testenv.New(t)
	c := env.Client(t)
	ctx := testCtx(t, time.Minute)
	// A worker that serves the type registers it, so starts are accepted.
	full := env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Sequential); w.RegisterActivity(Add) })
	full.Stop()
	partial := env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Tally) })
	if _, err := c.Start(ctx, client.StartOptions{ID: "orphan"}, Sequential, 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "orphan", "")
		return err == nil && d.Parked != nil
	})
	d, _ := c.Describe(ctx, "orphan", "")
	if !strings.Contains(d.Parked.Message, `type "Sequential" is not registered`) {
		t.Fatalf("parked with %q", d.Parked.Message)
	}
	sums, err := c.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		if s.WorkflowID == "orphan" && s.Parked == nil {
			t.Fatal("list does not show the run parked")
		}
	}
	// A worker serving every type of the queue replaces the other.
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(Sequential)
		w.RegisterWorkflow(Tally)
		w.RegisterActivity(Add)
	})
	partial.Stop()
	var got int
	if err := c.Result(ctx, "orphan", "", &got); err != nil || got != 3 {
		t.Fatalf("result %d, %v", got, err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "orphan", "")
		return err == nil && d.Parked == nil
	})
}
