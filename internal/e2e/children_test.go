package e2e

import (
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

// Kid squares n, fails for negative n, and for n == 0 waits for an hour
// (so it can be canceled or outlive its parent).
func Kid(ctx workflow.Context, n int) (int, error) {
	switch {
	case n < 0:
		return 0, failure.NonRetryable(fmt.Sprintf("%d is negative", n), "Negative")
	case n == 0:
		if err := workflow.Sleep(ctx, time.Hour); err != nil {
			return 0, err
		}
	}
	return n * n, nil
}

type ParentOut struct {
	Sum     int
	Failure string
}

func Parent(ctx workflow.Context, in []int) (ParentOut, error) {
	var out ParentOut
	futures := make([]workflow.Future[int], len(in))
	for i, n := range in {
		futures[i] = workflow.ExecuteChildWorkflow(ctx, Kid, n)
	}
	for _, f := range futures {
		v, err := f.Get(ctx)
		var wfErr *failure.WorkflowError
		var app *failure.ApplicationError
		if errors.As(err, &wfErr) && errors.As(err, &app) {
			out.Failure = app.Type
			continue
		}
		if err != nil {
			return out, err
		}
		out.Sum += v
	}
	return out, nil
}

// Leaver starts a long child under a policy and returns at once.
func Leaver(ctx workflow.Context, policy string) (string, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: "kid-of-leaver-" + policy,
		ParentClosePolicy: workflow.ParentClosePolicy(policy)})
	workflow.ExecuteChildWorkflow(cctx, Kid, 0)
	// Give the child's start a task of its own before closing.
	if err := workflow.Sleep(ctx, 200*time.Millisecond); err != nil {
		return "", err
	}
	return "left", nil
}

func registerFamily(w *worker.Worker) {
	w.RegisterWorkflow(Kid)
	w.RegisterWorkflow(Parent)
	w.RegisterWorkflow(Leaver)
}

func TestChildWorkflows(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerFamily)
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)

	t.Run("results and failures reach the parent once", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "parent"}, Parent, []int{2, 3, -1}); err != nil {
			t.Fatal(err)
		}
		var out ParentOut
		if err := c.Result(ctx, "parent", "", &out); err != nil {
			t.Fatal(err)
		}
		if out.Sum != 13 || out.Failure != "Negative" {
			t.Fatalf("parent saw %+v", out)
		}
		events := checkHistory(t, c, "parent")
		if count(events, history.TypeChildWorkflowCompleted) != 2 || count(events, history.TypeChildWorkflowFailed) != 1 {
			t.Fatalf("children closed %d/%d times in the parent's history",
				count(events, history.TypeChildWorkflowCompleted), count(events, history.TypeChildWorkflowFailed))
		}
		// Each child is a workflow of its own.
		d, err := c.Describe(ctx, "parent/child-1", "")
		if err != nil || d.Status != history.StatusCompleted {
			t.Fatalf("child describe: %+v %v", d, err)
		}
	})
	t.Run("canceling the parent cancels its children", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "parent-c"}, Parent, []int{0}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, func() bool {
			d, err := c.Describe(ctx, "parent-c/child-1", "")
			return err == nil && len(d.PendingTimers) == 1
		})
		if d, err := c.Describe(ctx, "parent-c", ""); err != nil || len(d.PendingChildren) != 1 || d.PendingChildren[0].WorkflowID != "parent-c/child-1" {
			t.Fatalf("parent describe does not show its child: %+v %v", d, err)
		}
		if err := c.Cancel(ctx, "parent-c", "", "stop"); err != nil {
			t.Fatal(err)
		}
		err := c.Result(ctx, "parent-c", "", nil)
		var canceled *failure.CanceledError
		if !errors.As(err, &canceled) {
			t.Fatalf("parent result %v", err)
		}
		d, err := c.Describe(ctx, "parent-c/child-1", "")
		if err != nil || d.Status != history.StatusCanceled {
			t.Fatalf("child after parent cancel: %+v %v", d, err)
		}
	})
	t.Run("terminating the parent applies the policy to its children", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "parent-t"}, Parent, []int{0}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, func() bool {
			d, err := c.Describe(ctx, "parent-t/child-1", "")
			return err == nil && len(d.PendingTimers) == 1
		})
		if err := c.Terminate(ctx, "parent-t", "", "stop"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, func() bool {
			d, err := c.Describe(ctx, "parent-t/child-1", "")
			return err == nil && d.Status == history.StatusTerminated
		})
	})
	for _, tc := range []struct {
		policy string
		want   history.Status
	}{{"terminate", history.StatusTerminated}, {"abandon", history.StatusRunning}, {"cancel", history.StatusCanceled}} {
		t.Run("parent close policy "+tc.policy, func(t *testing.T) {
			id := "leaver-" + tc.policy
			if _, err := c.Start(ctx, client.StartOptions{ID: id}, Leaver, tc.policy); err != nil {
				t.Fatal(err)
			}
			if err := c.Result(ctx, id, "", nil); err != nil {
				t.Fatal(err)
			}
			kid := "kid-of-leaver-" + tc.policy
			waitFor(t, ctx, func() bool {
				d, err := c.Describe(ctx, kid, "")
				return err == nil && d.Status == tc.want && (tc.want != history.StatusRunning || len(d.PendingTimers) == 1)
			})
		})
	}
}
