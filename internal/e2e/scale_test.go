package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/e2e/flows"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
)

func registerScaled(record string) func(w *worker.Worker) {
	return func(w *worker.Worker) {
		w.RegisterWorkflow(flows.Scaled)
		// A short heartbeat timeout makes tasks held by a killed worker come
		// back quickly; the activity itself takes milliseconds.
		w.RegisterActivity(flows.Recorder{Path: record}.Record, worker.WithName("Record"), worker.WithHeartbeatTimeout(time.Second))
	}
}

// scaledInstances is how many instances a scale-out test runs.
func scaledInstances() int {
	if testing.Short() {
		return 100
	}
	return 500
}

// startScaled starts n Scaled instances and signals each, 20 at a time.
func startScaled(ctx context.Context, c *client.Client, prefix string, n int) error {
	var wg sync.WaitGroup
	slots := make(chan struct{}, 20)
	errs := make(chan error, n)
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if _, err := c.Start(ctx, client.StartOptions{ID: id}, flows.Scaled, id); err != nil {
				errs <- fmt.Errorf("start %s: %w", id, err)
				return
			}
			if err := c.Signal(ctx, id, "", "bonus", 1000); err != nil {
				errs <- fmt.Errorf("signal %s: %w", id, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// checkScaled checks every Scaled instance's result and history, and that
// each of its steps ran at least once. It returns how many step executions
// were recorded beyond one per step.
func checkScaled(t *testing.T, ctx context.Context, c *client.Client, prefix string, n int, record string) int {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if got != 1005 {
			t.Fatalf("%s: result %d, want 1005", id, got)
		}
		events := checkHistory(t, c, id)
		if k := count(events, history.TypeActivityCompleted); k != 5 {
			t.Fatalf("%s: %d activities completed, want 5", id, k)
		}
		if k := count(events, history.TypeSignalReceived); k != 1 {
			t.Fatalf("%s: %d signals received, want 1", id, k)
		}
		if k := count(events, history.TypeTimerFired); k != 1 {
			t.Fatalf("%s: %d timers fired, want 1", id, k)
		}
	}
	execs := executions(t, record)
	if execs < 5*n {
		t.Fatalf("only %d step executions for %d steps completed", execs, 5*n)
	}
	return execs - 5*n
}

// TestWorkersShareAQueue runs 2, 4 and 8 workers on one task queue at
// once, nothing killed: every instance completes with the right result,
// however the workers split the queue's partitions.
func TestWorkersShareAQueue(t *testing.T) {
	for _, workers := range []int{2, 4, 8} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			env := testenv.New(t)
			c := env.Client(t)
			ctx := testCtx(t, 3*time.Minute)
			record := filepath.Join(t.TempDir(), "executions")
			for range workers {
				env.StartWorker(t, "default", registerScaled(record))
			}
			n := scaledInstances()
			prefix := fmt.Sprintf("share%d", workers)
			if err := startScaled(ctx, c, prefix, n); err != nil {
				t.Fatal(err)
			}
			extra := checkScaled(t, ctx, c, prefix, n, record)
			t.Logf("%d workers, %d instances: %d steps ran more than once", workers, n, extra)
		})
	}
}

// TestWorkersKilledAtRandomShareAQueue kills one of four workers of a
// queue at random, and starts a new one, again and again while instances
// run: partitions move to the survivors and back, and nothing is lost or
// recorded twice.
func TestWorkersKilledAtRandomShareAQueue(t *testing.T) {
	env := testenv.New(t)
	c := env.Client(t)
	ctx := testCtx(t, 4*time.Minute)
	record := filepath.Join(t.TempDir(), "executions")
	workers := make([]*testenv.Worker, 4)
	for i := range workers {
		workers[i] = env.StartWorker(t, "default", registerScaled(record))
	}
	n := scaledInstances()
	started := make(chan error, 1)
	go func() { started <- startScaled(ctx, c, "killed", n) }()
	rng := rand.New(rand.NewPCG(5, 6))
	midFlight := 0
	for range 6 {
		awaitSteps(t, record, 50+rng.IntN(250), func() bool { return closedCount(t, c) == n })
		i := rng.IntN(len(workers))
		workers[i].Kill()
		if closedCount(t, c) < n {
			midFlight++
		}
		workers[i] = env.StartWorker(t, "default", registerScaled(record))
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if midFlight == 0 {
		t.Fatal("every kill came after all workflows closed; the test proved nothing")
	}
	extra := checkScaled(t, ctx, c, "killed", n, record)
	t.Logf("%d instances, 6 workers killed: %d steps ran more than once", n, extra)
}

// awaitSteps waits until k more steps have been recorded than now, or done
// reports that nothing is left to run: a kill then lands at a random point
// of the work, not of the clock. The record file may not exist yet.
func awaitSteps(t *testing.T, record string, k int, done func() bool) {
	t.Helper()
	steps := func() int {
		data, err := os.ReadFile(record)
		if err != nil {
			return 0
		}
		return strings.Count(string(data), "\n")
	}
	base := steps()
	testutil.EventuallyTrue(t, time.Minute, func() bool { return steps() >= base+k || done() },
		fmt.Sprintf("%d more steps recorded", k))
}
