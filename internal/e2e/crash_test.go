package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/e2e/flows"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
	"github.com/nats-io/nats.go/jetstream"
)

func registerSteps(record string) func(w *worker.Worker) {
	return func(w *worker.Worker) {
		w.RegisterWorkflow(flows.Steps)
		// A short heartbeat timeout makes tasks held by a killed worker come
		// back quickly; the activity itself takes milliseconds.
		w.RegisterActivity(flows.Recorder{Path: record}.Record, worker.WithName("Record"), worker.WithHeartbeatTimeout(time.Second))
	}
}

func executions(t *testing.T, record string) int {
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

func TestWorkerKilledRepeatedlyLosesAndDuplicatesNothing(t *testing.T) {
	const n = 100
	env := testenv.New(t)
	record := filepath.Join(t.TempDir(), "executions")
	c := env.Client(t)
	ctx := testCtx(t, 3*time.Minute)

	w := env.StartWorker(t, "default", registerSteps(record))
	for i := range n {
		if _, err := c.Start(ctx, client.StartOptions{ID: fmt.Sprintf("crash-%03d", i)}, flows.Steps, fmt.Sprintf("crash-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	midFlight := 0
	for range 5 {
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		w.Kill()
		if done := closedCount(t, c); done < n {
			midFlight++
		}
		w = env.StartWorker(t, "default", registerSteps(record))
	}
	if midFlight == 0 {
		t.Fatal("every kill came after all workflows closed; the test proved nothing")
	}
	for i := range n {
		id := fmt.Sprintf("crash-%03d", i)
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if got != 5 {
			t.Fatalf("%s: result %d, want 5", id, got)
		}
		events := checkHistory(t, c, id)
		if k := count(events, history.TypeActivityCompleted); k != 5 {
			t.Fatalf("%s: %d activities completed, want 5", id, k)
		}
	}
	execs := executions(t, record)
	t.Logf("%d activity executions for %d activities closed in history", execs, 5*n)
	if execs < 5*n {
		t.Fatalf("only %d executions for %d completed activities", execs, 5*n)
	}
}

func closedCount(t *testing.T, c *client.Client) int {
	t.Helper()
	sums, err := c.List(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range sums {
		if s.Status != history.StatusRunning {
			n++
		}
	}
	return n
}

func TestServerRestartMidFlight(t *testing.T) {
	const n = 20
	env := testenv.New(t)
	record := filepath.Join(t.TempDir(), "executions")
	env.StartWorker(t, "default", registerSteps(record))
	// Every worker of a queue serves the same workflow types.
	env.StartWorker(t, "timers", func(w *worker.Worker) { w.RegisterWorkflow(SleepFor) })
	c := env.Client(t)
	ctx := testCtx(t, 2*time.Minute)
	for i := range n {
		if _, err := c.Start(ctx, client.StartOptions{ID: fmt.Sprintf("restart-%02d", i)}, flows.Steps, fmt.Sprintf("restart-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A timer set before the restart must fire after it.
	if _, err := c.Start(ctx, client.StartOptions{ID: "restart-timer", TaskQueue: "timers"}, SleepFor, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "restart-timer", "")
		return err == nil && len(d.PendingTimers) == 1
	})
	// The timer's schedule message is published right after its commit.
	waitFor(t, ctx, func() bool {
		s, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
		if err != nil {
			return false
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(env.Names().TimerInstanceFilter("restart-timer")))
		return err == nil && len(info.State.Subjects) > 0
	})
	env.StopServer(t)
	time.Sleep(2 * time.Second) // not synchronisation: the timer comes due while the server is down
	env.StartServer(t)
	for i := range n {
		id := fmt.Sprintf("restart-%02d", i)
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		checkHistory(t, c, id)
	}
	// Steps interrupted by the restart may run again (their results were
	// lost with the connection); tasks that went out and were taken are
	// not re-emitted by the reload that follows.
	t.Logf("%d step executions for %d steps across the server restart", executions(t, record), 5*n)
	var slept time.Duration
	if err := c.Result(ctx, "restart-timer", "", &slept); err != nil {
		t.Fatal(err)
	}
	events := checkHistory(t, c, "restart-timer")
	if count(events, history.TypeTimerFired) != 1 {
		t.Fatalf("timer did not fire exactly once")
	}
	if slept < 1500*time.Millisecond {
		t.Fatalf("slept %v", slept)
	}
}

func TestConcurrentStartsCreateOneInstance(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerTimers)
	ctx := testCtx(t, 30*time.Second)
	const racers = 8
	runs := make([]string, racers)
	var created atomic.Int32
	var wg sync.WaitGroup
	for i := range racers {
		// Separate clients on separate connections, like separate processes.
		c, err := client.New(ctx, env.NewConn(t))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Start(ctx, client.StartOptions{ID: "once"}, SleepFor, time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			runs[i] = r.Run
			if r.Created {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	if created.Load() != 1 {
		t.Fatalf("%d starts created a run, want 1", created.Load())
	}
	for _, r := range runs {
		if r != runs[0] {
			t.Fatalf("starts returned different runs: %v", runs)
		}
	}
	c := env.Client(t)
	if err := c.Result(ctx, "once", "", nil); err != nil {
		t.Fatal(err)
	}
	events := checkHistory(t, c, "once")
	if count(events, history.TypeWorkflowStarted) != 1 {
		t.Fatal("more than one start in history")
	}
}
