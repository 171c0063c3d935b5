package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Tally counts "add" events and answers queries about them.
func Tally(ctx workflow.Context, _ struct{}) (int, error) {
	total := 0
	workflow.SetQueryHandler(ctx, "total", func(struct{}) (int, error) { return total, nil })
	workflow.SetQueryHandler(ctx, "times", func(k int) (int, error) { return total * k, nil })
	workflow.SetQueryHandler(ctx, "meddle", func(struct{}) (int, error) {
		_ = workflow.SetStatus(ctx, "changed by a query") // must be refused
		return 0, nil
	})
	for {
		n, err := workflow.ReceiveSignal[int](ctx, "add")
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return total, nil
		}
		total += n
	}
}

func TestQueriesReadLiveState(t *testing.T) {
	env := testenv.New(t)
	reg := func(w *worker.Worker) { w.RegisterWorkflow(Tally) }
	w := env.StartWorker(t, "default", reg)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "tally"}, Tally, struct{}{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{5, 7} {
		if err := c.Signal(ctx, "tally", "", "add", n); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, func() bool {
		var total int
		return c.Query(ctx, "tally", "total", nil, &total) == nil && total == 12
	})
	before, _ := c.History(ctx, "tally", "")
	var got int
	if err := c.Query(ctx, "tally", "times", 3, &got); err != nil || got != 36 {
		t.Fatalf("times: %d %v", got, err)
	}
	if err := c.Query(ctx, "tally", "nope", nil, nil); !errors.Is(err, client.ErrUnknownQuery) {
		t.Fatalf("unknown query: %v", err)
	}
	if err := c.Query(ctx, "tally", "meddle", nil, nil); err == nil {
		t.Fatal("a query that changes the workflow was allowed")
	}
	// A worker that never saw the instance answers after replaying it.
	w.Kill()
	w2 := env.StartWorker(t, "default", reg)
	if err := c.Query(ctx, "tally", "total", nil, &got); err != nil || got != 12 {
		t.Fatalf("total after a worker change: %d %v", got, err)
	}
	after, _ := c.History(ctx, "tally", "")
	if len(after) != len(before) {
		t.Fatalf("queries wrote history: %d events, then %d", len(before), len(after))
	}
	if err := c.Query(ctx, "ghost", "total", nil, nil); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("query of an unknown workflow: %v", err)
	}
	if err := c.Signal(ctx, "tally", "", "add", 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Result(ctx, "tally", "", &got); err != nil || got != 12 {
		t.Fatalf("result %d %v", got, err)
	}
	// A closed run is answered too, from its replayed history, by a
	// worker that never held it.
	w2.Kill()
	env.StartWorker(t, "default", reg)
	got = 0
	if err := c.Query(ctx, "tally", "times", 2, &got); err != nil || got != 24 {
		t.Fatalf("query of a closed workflow: %d %v", got, err)
	}
	// Terminated in the middle: the handler sees the state at that point.
	if _, err := c.Start(ctx, client.StartOptions{ID: "tally-2"}, Tally, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, "tally-2", "", "add", 4); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		var total int
		return c.Query(ctx, "tally-2", "total", nil, &total) == nil && total == 4
	})
	if err := c.Terminate(ctx, "tally-2", "", "enough"); err != nil {
		t.Fatal(err)
	}
	got = 0
	if err := c.Query(ctx, "tally-2", "total", nil, &got); err != nil || got != 4 {
		t.Fatalf("query of a terminated workflow: %d %v", got, err)
	}
	if d, _ := c.Describe(ctx, "tally", ""); d.Status != history.StatusCompleted || d.CustomStatus != nil {
		t.Fatalf("describe: %+v", d)
	}
}
