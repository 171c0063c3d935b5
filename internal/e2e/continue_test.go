package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Counter continues as new until n reaches 3, then takes the "bonus" event
// that was raised on its first run and carried along.
func Counter(ctx workflow.Context, n int) (int, error) {
	if n < 3 {
		if err := workflow.Sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, err
		}
		return 0, workflow.NewContinueAsNewError(ctx, n+1)
	}
	bonus, err := workflow.ReceiveSignal[int](ctx, "bonus")
	return n + bonus, err
}

func TestContinueAsNewCarriesEventsAndIsFollowed(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Counter) })
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	first, err := c.Start(ctx, client.StartOptions{ID: "counter"}, Counter, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, "counter", first.Run, "bonus", 100); err != nil {
		t.Fatal(err)
	}
	var got int
	if err := first.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != 103 {
		t.Fatalf("result %d, want 103", got)
	}
	d, err := c.Describe(ctx, "counter", first.Run)
	if err != nil || d.Status != history.StatusContinuedAsNew || d.NextRun == "" {
		t.Fatalf("first run: %+v %v", d, err)
	}
	last, err := c.Describe(ctx, "counter", "")
	if err != nil || last.Status != history.StatusCompleted || last.Run == first.Run {
		t.Fatalf("last run: %+v %v", last, err)
	}
	events := checkHistory(t, c, "counter")
	if events[1].Type != history.TypeSignalReceived {
		t.Fatalf("the carried event is not in the last run's start batch: %s", events[1].Type)
	}
	// Each run's history is its own, short one.
	if len(events) > 10 {
		t.Fatalf("last run has %d events", len(events))
	}
}

func TestHistoryLimitParksInsteadOfGrowing(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBasics, worker.WithMaxHistoryEvents(9))
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "long"}, Sequential, 10); err != nil {
		t.Fatal(err)
	}
	var d *client.Description
	waitFor(t, ctx, func() bool {
		var err error
		d, err = c.Describe(ctx, "long", "")
		return err == nil && d.Parked != nil
	})
	if d.Parked.Type != executor.FailureHistoryLimit || !strings.Contains(d.Parked.Message, "continue as new") {
		t.Fatalf("parked with %+v", d.Parked)
	}
	if d.HistoryLength > 9 {
		t.Fatalf("history grew to %d events past the limit of 9", d.HistoryLength)
	}
}

func TestHistoryByteLimitParks(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBasics, worker.WithMaxHistoryBytes(2048))
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "wide"}, FanOut, 50); err != nil {
		t.Fatal(err)
	}
	var d *client.Description
	waitFor(t, ctx, func() bool {
		var err error
		d, err = c.Describe(ctx, "wide", "")
		return err == nil && d.Parked != nil
	})
	if d.Parked.Type != executor.FailureHistoryLimit || !strings.Contains(d.Parked.Message, "bytes") {
		t.Fatalf("parked with %+v", d.Parked)
	}
	if d.HistoryLength != 1 {
		t.Fatalf("the oversize task committed: %d events", d.HistoryLength)
	}
}
