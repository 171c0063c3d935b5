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

// Collect sleeps (so events arrive before it waits), then takes n "item"
// events in order.
func Collect(ctx workflow.Context, n int) ([]int, error) {
	if err := workflow.Sleep(ctx, 300*time.Millisecond); err != nil {
		return nil, err
	}
	var got []int
	for range n {
		v, err := workflow.ReceiveSignal[int](ctx, "item")
		if err != nil {
			return nil, err
		}
		got = append(got, v)
	}
	return got, nil
}

// Approval waits for a decision with a timeout.
func Approval(ctx workflow.Context, timeout time.Duration) (string, error) {
	d, err := workflow.ReceiveSignalTimeout[string](ctx, "decision", timeout)
	var to *failure.TimeoutError
	if errors.As(err, &to) {
		return "escalated", nil
	}
	return d, err
}

func registerSignals(w *worker.Worker) {
	w.RegisterWorkflow(Collect)
	w.RegisterWorkflow(Approval)
}

func TestEventsAreBufferedInOrderAndSurviveACrash(t *testing.T) {
	env := testenv.New(t)
	w := env.StartWorker(t, "default", registerSignals)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "collect"}, Collect, 4); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if err := c.Signal(ctx, "collect", "", "item", i); err != nil {
			t.Fatal(err)
		}
	}
	// The same raise delivered twice is recorded once.
	for range 2 {
		if err := c.SignalRaw(ctx, "collect", "", "item", []byte("4"), "dup-4"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, func() bool {
		h, err := c.History(ctx, "collect", "")
		return err == nil && count(h, history.TypeSignalReceived) == 4
	})
	w.Kill()
	env.StartWorker(t, "default", registerSignals)
	var got []int
	if err := c.Result(ctx, "collect", "", &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0] != 1 || got[1] != 2 || got[2] != 3 || got[3] != 4 {
		t.Fatalf("events taken as %v, want [1 2 3 4]", got)
	}
	if n := count(checkHistory(t, c, "collect"), history.TypeSignalReceived); n != 4 {
		t.Fatalf("%d events recorded, want 4", n)
	}
	if err := c.Signal(ctx, "collect", "", "item", 5); !errors.Is(err, client.ErrNotRunning) {
		t.Fatalf("signal to a closed run: %v", err)
	}
	if err := c.Signal(ctx, "nobody", "", "item", 5); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("signal to an unknown workflow: %v", err)
	}
}

func TestReceiveSignalTimeout(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerSignals)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "late"}, Approval, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.Result(ctx, "late", "", &got); err != nil || got != "escalated" {
		t.Fatalf("timed-out wait: %q %v", got, err)
	}
	if _, err := c.Start(ctx, client.StartOptions{ID: "ontime"}, Approval, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, "ontime", "", "decision", "approved"); err != nil {
		t.Fatal(err)
	}
	if err := c.Result(ctx, "ontime", "", &got); err != nil || got != "approved" {
		t.Fatalf("answered wait: %q %v", got, err)
	}
	// The hour-long timeout timer was canceled, not left behind.
	events := checkHistory(t, c, "ontime")
	if count(events, history.TypeTimerCanceled) != 1 {
		t.Fatal("the wait's timeout timer was not canceled")
	}
}

func TestSignalWithStart(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerSignals)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	first, err := c.SignalWithStart(ctx, client.StartOptions{ID: "sws"}, Collect, 2, "item", 10)
	if err != nil || !first.Created {
		t.Fatalf("first signal-with-start: %+v %v", first, err)
	}
	second, err := c.SignalWithStart(ctx, client.StartOptions{ID: "sws"}, Collect, 2, "item", 20)
	if err != nil || second.Created || second.Run != first.Run {
		t.Fatalf("second signal-with-start: %+v %v", second, err)
	}
	var got []int
	if err := first.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 10 || got[1] != 20 {
		t.Fatalf("got %v, want [10 20]", got)
	}
	h := checkHistory(t, c, "sws")
	if h[1].Type != history.TypeSignalReceived {
		t.Fatalf("the first event is not in the start batch: %s", h[1].Type)
	}
}

// Basket waits on two signal channels at once with a Selector until
// "checkout"; "add" signals before it are summed.
func Basket(ctx workflow.Context, _ struct{}) (string, error) {
	add := workflow.GetSignalChannel[int](ctx, "add")
	checkout := workflow.GetSignalChannel[string](ctx, "checkout")
	total := 0
	for {
		done, why := false, ""
		sel := workflow.NewSelector(ctx)
		workflow.AddSignal(sel, add, func(v int, err error) { total += v })
		workflow.AddSignal(sel, checkout, func(v string, err error) { done, why = true, v })
		sel.Select(ctx)
		if done {
			return fmt.Sprintf("%s %d", why, total), nil
		}
	}
}

// TestSignalChannelsReplayAfterACrash: a Selector over signal channels
// replays the same choices on a worker that never saw the run.
func TestSignalChannelsReplayAfterACrash(t *testing.T) {
	env := testenv.New(t)
	reg := func(w *worker.Worker) { w.RegisterWorkflow(Basket) }
	w := env.StartWorker(t, "default", reg)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "basket"}, Basket, struct{}{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} {
		if err := c.Signal(ctx, "basket", "", "add", n); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, func() bool {
		events, err := c.History(ctx, "basket", "")
		return err == nil && count(events, history.TypeSignalReceived) == 2
	})
	w.Kill()
	env.StartWorker(t, "default", reg)
	if err := c.Signal(ctx, "basket", "", "add", 4); err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, "basket", "", "checkout", "paid"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.Result(ctx, "basket", "", &got); err != nil || got != "paid 9" {
		t.Fatalf("result %q, %v", got, err)
	}
	checkHistory(t, c, "basket")
}
