package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Item succeeds for even numbers and fails for odd ones, after a delay of
// n*10 ms.
func Item(ctx context.Context, n int) (int, error) {
	select {
	case <-time.After(time.Duration(n) * 10 * time.Millisecond):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if n%2 == 1 {
		return 0, fmt.Errorf("item %d is odd", n)
	}
	return n * n, nil
}

type BatchIn struct {
	Items []int
	Opts  workflow.BatchOptions
}

type BatchOut struct {
	Reason    string
	Succeeded int
	Failed    int
	Statuses  []string
	Values    []int
	Err       string
}

func Batch(ctx workflow.Context, in BatchIn) (BatchOut, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{RetryPolicy: &workflow.RetryPolicy{MaximumAttempts: 1}})
	res, err := workflow.Map(ctx, in.Items, func(ctx workflow.Context, n int) (int, error) {
		return workflow.ExecuteActivity(ctx, Item, n).Get(ctx)
	}, in.Opts)
	out := BatchOut{Reason: res.Reason, Succeeded: res.Succeeded, Failed: res.Failed, Values: res.Values()}
	for _, it := range res.Items {
		out.Statuses = append(out.Statuses, string(it.Status))
	}
	if err != nil {
		out.Err = err.Error()
	}
	return out, nil
}

func FirstOf(ctx workflow.Context, _ struct{}) (int, error) {
	slow := workflow.ExecuteActivity(ctx, Item, 40)
	fast := workflow.ExecuteActivity(ctx, Item, 2)
	i, v, err := workflow.Any(ctx, slow, fast)
	if err != nil {
		return 0, err
	}
	all, err := workflow.All(ctx, slow, fast)
	if err != nil || all[0] != 1600 || all[1] != 4 {
		return 0, fmt.Errorf("All: %v %v", all, err)
	}
	return i*1000 + v, nil
}

func registerBatch(w *worker.Worker) {
	w.RegisterWorkflow(Batch)
	w.RegisterWorkflow(FirstOf)
	w.RegisterActivity(Item)
}

// maxInFlight is the largest number of activities scheduled and not yet
// closed at any point of a history.
func maxInFlight(events []*history.Event) int {
	open, most := 0, 0
	for _, ev := range events {
		switch ev.Type {
		case history.TypeActivityScheduled:
			open++
			most = max(most, open)
		case history.TypeActivityCompleted, history.TypeActivityFailed, history.TypeActivityCancelRequested:
			open--
		}
	}
	return most
}

func TestMapAndParallelPolicies(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBatch)
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	cases := []struct {
		name  string
		in    BatchIn
		check func(t *testing.T, out BatchOut, events []*history.Event)
	}{
		{"bounded concurrency, failures tolerated", BatchIn{Items: []int{2, 4, 1, 6, 8, 3, 10}, Opts: workflow.BatchOptions{MaxConcurrency: 2, ToleratedFailures: -1}},
			func(t *testing.T, out BatchOut, events []*history.Event) {
				if out.Reason != "all-completed" || out.Succeeded != 5 || out.Failed != 2 || out.Err != "" {
					t.Fatalf("%+v", out)
				}
				if m := maxInFlight(events); m > 2 {
					t.Fatalf("%d activities in flight, max concurrency 2", m)
				}
				if fmt.Sprint(out.Values) != "[4 16 36 64 100]" {
					t.Fatalf("values %v", out.Values)
				}
			}},
		{"minimum successful", BatchIn{Items: []int{2, 4, 30, 40, 50}, Opts: workflow.BatchOptions{MaxConcurrency: 3, MinSuccessful: 2}},
			func(t *testing.T, out BatchOut, events []*history.Event) {
				if out.Reason != "min-successful" || out.Succeeded != 2 {
					t.Fatalf("%+v", out)
				}
				// Items 0-2 start; item 0's success starts item 3; item 1's
				// success reaches the minimum: 2 and 3 are canceled, 4
				// never starts.
				if fmt.Sprint(out.Statuses) != "[succeeded succeeded canceled canceled not_started]" {
					t.Fatalf("statuses %v", out.Statuses)
				}
				if count(events, history.TypeActivityCancelRequested) != 2 {
					t.Fatalf("the running items were not canceled")
				}
			}},
		{"failure tolerance exceeded", BatchIn{Items: []int{1, 3, 5, 40, 42}, Opts: workflow.BatchOptions{ToleratedFailurePercent: 40}},
			func(t *testing.T, out BatchOut, events []*history.Event) {
				if out.Reason != "failure-tolerance-exceeded" || out.Failed != 3 || !strings.Contains(out.Err, "failure tolerance exceeded") {
					t.Fatalf("%+v", out)
				}
			}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("batch-%d", i)
			if _, err := c.Start(ctx, client.StartOptions{ID: id}, Batch, tc.in); err != nil {
				t.Fatal(err)
			}
			var out BatchOut
			if err := c.Result(ctx, id, "", &out); err != nil {
				t.Fatal(err)
			}
			tc.check(t, out, checkHistory(t, c, id))
		})
	}
	t.Run("any and all", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "first"}, FirstOf, struct{}{}); err != nil {
			t.Fatal(err)
		}
		var got int
		if err := c.Result(ctx, "first", "", &got); err != nil || got != 1004 {
			t.Fatalf("Any returned %d, %v; want the fast future (1) with 4", got, err)
		}
	})
}

// calls records compensations in the order they run.
type calls struct {
	mu  sync.Mutex
	log []string
}

func (c *calls) Undo(ctx context.Context, step string) (string, error) {
	c.mu.Lock()
	c.log = append(c.log, step)
	c.mu.Unlock()
	return step, nil
}

func SagaWorkflow(ctx workflow.Context, failAt int) (string, error) {
	saga := workflow.NewSaga()
	for i := range 3 {
		if i == failAt {
			return "", saga.Compensate(ctx, errors.New("step failed"))
		}
		saga.Add(func(ctx workflow.Context) error {
			_, err := workflow.ExecuteActivityByName[string](ctx, "Undo", fmt.Sprintf("undo-%d", i)).Get(ctx)
			return err
		})
	}
	return "done", nil
}

func TestSagaCompensatesInReverse(t *testing.T) {
	env := testenv.New(t)
	cl := &calls{}
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(SagaWorkflow)
		w.RegisterActivity(cl.Undo)
	})
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "saga"}, SagaWorkflow, 2); err != nil {
		t.Fatal(err)
	}
	err := c.Result(ctx, "saga", "", nil)
	if err == nil || !strings.Contains(err.Error(), "step failed") {
		t.Fatalf("result %v", err)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if strings.Join(cl.log, ",") != "undo-1,undo-0" {
		t.Fatalf("compensations ran as %v, want undo-1,undo-0", cl.log)
	}
}

// QuickBatch runs three branches that finish at once, two at a time,
// until two succeeded: the third is started when the first reports and
// canceled by the second's report before it ran.
func QuickBatch(ctx workflow.Context, _ struct{}) ([]string, error) {
	branch := func(v int) func(workflow.Context) (int, error) {
		return func(workflow.Context) (int, error) { return v, nil }
	}
	res, err := workflow.Parallel(ctx, []func(workflow.Context) (int, error){branch(1), branch(2), branch(3)},
		workflow.BatchOptions{MaxConcurrency: 2, MinSuccessful: 2})
	var out []string
	for _, it := range res.Items {
		out = append(out, string(it.Status))
	}
	return append(out, res.Reason, fmt.Sprint(res.Succeeded)), err
}

// TestBatchBranchCanceledBeforeItRan: on the engine as in the
// time-skipping env, a branch canceled before it ran is reported not
// started (it did nothing), and the counts are what history says.
func TestBatchBranchCanceledBeforeItRan(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(QuickBatch) })
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "quick-batch"}, QuickBatch, struct{}{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := c.Result(ctx, "quick-batch", "", &got); err != nil {
		t.Fatal(err)
	}
	if want := "[succeeded succeeded not_started min-successful 2]"; fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	checkHistory(t, c, "quick-batch")
}
