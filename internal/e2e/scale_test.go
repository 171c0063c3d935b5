package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Scaled is the workload of the scale-out tests: five chained activities,
// a durable timer and a signal, so every kind of inbox message reaches an
// instance that several workers may hold.
func Scaled(ctx workflow.Context, base int) (int, error) {
	sum := base
	for i := range 5 {
		v, err := workflow.ExecuteActivity(ctx, Add, [2]int{sum, i}).Get(ctx)
		if err != nil {
			return 0, err
		}
		sum = v
	}
	if _, err := workflow.NewTimer(ctx, 50*time.Millisecond).Get(ctx); err != nil {
		return 0, err
	}
	bonus, err := workflow.ReceiveSignal[int](ctx, "bonus")
	if err != nil {
		return 0, err
	}
	return sum + bonus, nil
}

func registerScaled(w *worker.Worker) {
	w.RegisterWorkflow(Scaled)
	w.RegisterActivity(Add)
}

// runScaled starts n Scaled instances, signals each, and checks every
// result and history.
func runScaled(t *testing.T, ctx context.Context, c *client.Client, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("%s-%03d", prefix, i)
			if _, err := c.Start(ctx, client.StartOptions{ID: id}, Scaled, i); err != nil {
				errs <- fmt.Errorf("start %s: %w", id, err)
				return
			}
			if err := c.Signal(ctx, id, "", "bonus", 1000); err != nil {
				errs <- fmt.Errorf("signal %s: %w", id, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if want := i + 10 + 1000; got != want {
			t.Fatalf("%s: result %d, want %d", id, got, want)
		}
		events := checkHistory(t, c, id)
		if k := count(events, history.TypeActivityCompleted); k != 5 {
			t.Fatalf("%s: %d activities completed, want 5", id, k)
		}
		if k := count(events, history.TypeSignalReceived); k != 1 {
			t.Fatalf("%s: %d signals received, want 1", id, k)
		}
	}
}

// TestWorkersShareAQueue runs several workers on one task queue at once,
// nothing killed: every instance completes with the right result, however
// the workers split its messages.
func TestWorkersShareAQueue(t *testing.T) {
	for _, workers := range []int{2, 4} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			env := testenv.New(t)
			c := env.Client(t)
			ctx := testCtx(t, 3*time.Minute)
			for range workers {
				env.StartWorker(t, "default", registerScaled)
			}
			runScaled(t, ctx, c, fmt.Sprintf("share%d", workers), 100)
		})
	}
}
