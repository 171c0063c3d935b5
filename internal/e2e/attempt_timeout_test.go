package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/e2e/flows"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// GuardedInput says which activity Guarded runs, and with which timeouts.
type GuardedInput struct {
	Activity     string
	Key          string
	Heartbeat    time.Duration
	StartToClose time.Duration
}

// Guarded runs one activity with the given timeouts, retrying quickly, at
// most three attempts.
func Guarded(ctx workflow.Context, in GuardedInput) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		HeartbeatTimeout:    in.Heartbeat,
		StartToCloseTimeout: in.StartToClose,
		RetryPolicy:         &workflow.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	})
	return workflow.ExecuteActivityByName[string](ctx, in.Activity, in.Key).Get(ctx)
}

// startEngine runs the workflows of these tests on a worker of their own,
// which no test kills: only activity workers die.
func startEngine(t *testing.T, env *testenv.Env) {
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Guarded) })
}

// waitRecorded waits until the record file holds line.
func waitRecorded(t *testing.T, record, line string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() error {
		data, err := os.ReadFile(record)
		if err != nil {
			return err
		}
		if !strings.Contains(string(data), line+"\n") {
			return fmt.Errorf("%s not recorded yet", line)
		}
		return nil
	})
}

// checkTimedOutThenRetried asserts the history of a Guarded run whose first
// attempt timed out with kind and whose second attempt completed.
func checkTimedOutThenRetried(t *testing.T, c *client.Client, id, kind string) {
	t.Helper()
	events := checkHistory(t, c, id)
	var retries []*history.ActivityRetrying
	var done *history.ActivityCompleted
	for _, ev := range events {
		switch a := ev.Attributes.(type) {
		case *history.ActivityRetrying:
			retries = append(retries, a)
		case *history.ActivityCompleted:
			done = a
		}
	}
	if len(retries) != 1 || done == nil {
		t.Fatalf("%s: %d retries, completion %+v; want one timed-out attempt, then a completed one", id, len(retries), done)
	}
	var te *failure.TimeoutError
	if r := retries[0]; r.Attempt != 1 || !errors.As(failconv.FromFailure(r.Failure), &te) || te.Kind != kind {
		t.Fatalf("%s: the first attempt closed with %+v (failure %v), want a %s timeout", id, r, r.Failure, kind)
	}
	if done.Attempt != 2 {
		t.Fatalf("%s: completed by attempt %d, want 2", id, done.Attempt)
	}
}

// TestKilledWorkersAttemptIsTimedOutByHeartbeat: the worker running a
// heartbeating activity (heartbeat timeout 1s) dies; the engine times the
// attempt out from the activity's own heartbeat timeout, not the task
// consumer's 60 s AckWait, and another worker runs attempt 2 at once.
func TestKilledWorkersAttemptIsTimedOutByHeartbeat(t *testing.T) {
	env := testenv.New(t)
	record := filepath.Join(t.TempDir(), "executions")
	startEngine(t, env)
	hang := func(w *worker.Worker) { w.RegisterActivity(flows.Recorder{Path: record}.Hang, worker.WithName("Hang")) }
	a := env.StartWorker(t, "default", hang)
	c := env.Client(t)
	// Far below the AckWait of 60s: only the engine's timeout can make it.
	ctx := testCtx(t, 40*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "hb-killed"}, Guarded,
		GuardedInput{Activity: "Hang", Key: "hb", Heartbeat: time.Second}); err != nil {
		t.Fatal(err)
	}
	waitRecorded(t, record, "hb/attempt-1")
	a.Kill()
	env.StartWorker(t, "default", hang)

	var got string
	if err := c.Result(ctx, "hb-killed", "", &got); err != nil || got != "attempt 2" {
		t.Fatalf("result %q, %v", got, err)
	}
	checkTimedOutThenRetried(t, c, "hb-killed", failure.TimeoutHeartbeat)
}

// TestSIGKILLedWorkersAttemptIsTimedOutByStartToClose: the same story
// with a worker process killed by SIGKILL, and an activity with a
// start-to-close timeout (2s) only.
func TestSIGKILLedWorkersAttemptIsTimedOutByStartToClose(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a worker binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "crashworker")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/crashworker").CombinedOutput(); err != nil {
		t.Fatalf("build worker: %v\n%s", err, out)
	}
	env := testenv.New(t)
	record := filepath.Join(dir, "executions")
	startEngine(t, env)
	proc := exec.Command(bin, "-url", env.URL(), "-record", record, "-hang")
	proc.Stderr = os.Stderr
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Process.Kill(); _ = proc.Wait() })

	c := env.Client(t)
	ctx := testCtx(t, 40*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "s2c-killed"}, Guarded,
		GuardedInput{Activity: "Hang", Key: "s2c", StartToClose: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	waitRecorded(t, record, "s2c/attempt-1")
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterActivity(flows.Recorder{Path: record}.Hang, worker.WithName("Hang"))
	})

	var got string
	if err := c.Result(ctx, "s2c-killed", "", &got); err != nil || got != "attempt 2" {
		t.Fatalf("result %q, %v", got, err)
	}
	checkTimedOutThenRetried(t, c, "s2c-killed", failure.TimeoutStartToClose)
}

// Beat heartbeats for the given time, then returns its attempt.
func Beat(ctx context.Context, d time.Duration) (int, error) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		if err := activity.RecordHeartbeat(ctx); err != nil {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return activity.GetInfo(ctx).Attempt, nil
}

// LongBeat runs Beat for four heartbeat timeouts.
func LongBeat(ctx workflow.Context, _ struct{}) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{HeartbeatTimeout: time.Second, StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, Beat, 4*time.Second).Get(ctx)
}

// TestHeartbeatingActivityIsNotTimedOut: an activity that runs for several
// heartbeat timeouts, heartbeating, completes in its first attempt.
func TestHeartbeatingActivityIsNotTimedOut(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(LongBeat)
		w.RegisterActivity(Beat)
	})
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "long-beat"}, LongBeat, struct{}{}); err != nil {
		t.Fatal(err)
	}
	var attempt int
	if err := c.Result(ctx, "long-beat", "", &attempt); err != nil || attempt != 1 {
		t.Fatalf("result %d, %v", attempt, err)
	}
	events := checkHistory(t, c, "long-beat")
	if n := count(events, history.TypeActivityRetrying); n != 0 {
		t.Fatalf("%d retries of a heartbeating activity", n)
	}
}
