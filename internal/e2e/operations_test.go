package e2e

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/cost"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// ops holds the activities of the operations tests, counting executions.
type ops struct {
	mu    sync.Mutex
	runs  map[int]int
	bad   atomic.Bool // Fragile fails while set
	slow  chan struct{}
	fails atomic.Int32
}

func newOps() *ops { return &ops{runs: map[int]int{}, slow: make(chan struct{})} }

func (o *ops) Step(_ context.Context, i int) (int, error) {
	o.mu.Lock()
	o.runs[i]++
	o.mu.Unlock()
	return i, nil
}

func (o *ops) Gate(ctx context.Context, _ int) (int, error) {
	select {
	case <-o.slow:
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (o *ops) Fragile(_ context.Context, _ int) (int, error) {
	if o.bad.Load() {
		o.fails.Add(1)
		return 0, errors.New("downstream unavailable")
	}
	return 10, nil
}

func (o *ops) count(i int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.runs[i]
}

// Steps runs n steps in sequence, then waits for "finish".
func (o *ops) Steps(ctx workflow.Context, n int) (int, error) {
	sum := 0
	for i := range n {
		v, err := workflow.ExecuteActivity(ctx, o.Step, i).Get(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	if _, err := workflow.ReceiveSignal[bool](ctx, "finish"); err != nil {
		return 0, err
	}
	return sum, nil
}

// Held runs Gate (which waits for the test), takes an event, runs Step.
func (o *ops) Held(ctx workflow.Context, _ int) (int, error) {
	a, err := workflow.ExecuteActivity(ctx, o.Gate, 0).Get(ctx)
	if err != nil {
		return 0, err
	}
	v, err := workflow.ReceiveSignal[int](ctx, "more")
	if err != nil {
		return 0, err
	}
	b, err := workflow.ExecuteActivity(ctx, o.Step, 100).Get(ctx)
	if err != nil {
		return 0, err
	}
	return a + v + b, nil
}

// Pipeline runs Step then Fragile (two attempts at most).
func (o *ops) Pipeline(ctx workflow.Context, _ int) (int, error) {
	a, err := workflow.ExecuteActivity(ctx, o.Step, 7).Get(ctx)
	if err != nil {
		return 0, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{RetryPolicy: &workflow.RetryPolicy{
		InitialInterval: 10 * time.Millisecond, MaximumAttempts: 2}})
	b, err := workflow.ExecuteActivity(ctx, o.Fragile, 0).Get(ctx)
	if err != nil {
		return 0, err
	}
	return a + b, nil
}

func (o *ops) register(w *worker.Worker) {
	w.RegisterWorkflow(o.Steps, worker.WithName("Steps"))
	w.RegisterWorkflow(o.Held, worker.WithName("Held"))
	w.RegisterWorkflow(o.Pipeline, worker.WithName("Pipeline"))
	w.RegisterActivity(o.Step)
	w.RegisterActivity(o.Gate)
	w.RegisterActivity(o.Fragile)
}

func indexOf(events []*history.Event, typ history.EventType, from int) int {
	for i := from; i < len(events); i++ {
		if events[i].Type == typ {
			return i
		}
	}
	return -1
}

func TestPauseHoldsTheCodeAcrossAServerRestart(t *testing.T) {
	env := testenv.New(t)
	o := newOps()
	env.StartWorker(t, "default", o.register)
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "held"}, "Held", 0); err != nil {
		t.Fatal(err)
	}
	hist := func() []*history.Event {
		evs, err := c.History(ctx, "held", "")
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	waitFor(t, ctx, func() bool { return count(hist(), history.TypeActivityScheduled) == 1 })
	if err := c.Pause(ctx, "held", "", "maintenance"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return count(hist(), history.TypeWorkflowPaused) == 1 })
	// While paused: the running activity finishes, an event arrives; both
	// are recorded, and the code takes neither.
	close(o.slow)
	if err := c.Signal(ctx, "held", "", "more", 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		evs := hist()
		return count(evs, history.TypeActivityCompleted) == 1 && count(evs, history.TypeSignalReceived) == 1
	})
	listed := func() history.Summary {
		sums, err := c.List(ctx, client.ListOptions{WorkflowType: "Held"})
		if err != nil || len(sums) != 1 {
			t.Fatalf("list: %v %v", sums, err)
		}
		return sums[0]
	}
	// The summary follows the pause before the pause's task is
	// acknowledged; list shows it.
	waitFor(t, ctx, func() bool { return listed().Paused })
	env.Restart(t)
	if err := c.Pause(ctx, "held", "", "again"); err != nil {
		t.Fatal(err)
	}
	d, err := c.Describe(ctx, "held", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Paused == nil || d.Paused.Reason != "maintenance" {
		t.Fatalf("after the restart the run is not paused: %+v", d.Paused)
	}
	if n := count(hist(), history.TypeActivityScheduled); n != 1 {
		t.Fatalf("code ran while paused: %d activities scheduled", n)
	}
	if s := listed(); !s.Paused || s.Status != history.StatusRunning {
		t.Fatalf("after the restart list does not show the pause: %+v", s)
	}
	if err := c.Resume(ctx, "held", "", "done"); err != nil {
		t.Fatal(err)
	}
	var got int
	if err := c.Result(ctx, "held", "", &got); err != nil || got != 1+5+100 {
		t.Fatalf("result %d %v", got, err)
	}
	waitFor(t, ctx, func() bool { return listed().Status == history.StatusCompleted })
	if listed().Paused {
		t.Fatal("a closed run is listed as paused")
	}
	evs := checkHistory(t, c, "held")
	paused := indexOf(evs, history.TypeWorkflowPaused, 0)
	resumed := indexOf(evs, history.TypeWorkflowResumed, 0)
	if count(evs, history.TypeWorkflowPaused) != 1 || paused < 0 || resumed < paused {
		t.Fatalf("pause events: paused at %d, resumed at %d", paused, resumed)
	}
	for _, ev := range evs[paused:resumed] {
		if ev.IsCommand() {
			t.Fatalf("command %s (event %d) recorded while paused", ev.Type, ev.Seq)
		}
	}
	if i := indexOf(evs, history.TypeActivityCompleted, 0); i < paused || i > resumed {
		t.Fatalf("the result was not recorded during the pause (at %d)", i)
	}
	if i := indexOf(evs, history.TypeActivityScheduled, resumed); i < 0 {
		t.Fatal("the code did not run on after the resume")
	}
	if err := c.Pause(ctx, "held", "", ""); !errors.Is(err, client.ErrNotRunning) {
		t.Fatalf("pause of a closed run: %v", err)
	}
}

func TestResetAFiftyStepInstanceToEvent20(t *testing.T) {
	env := testenv.New(t)
	o := newOps()
	env.StartWorker(t, "default", o.register)
	c := env.Client(t)
	ctx := testCtx(t, 90*time.Second)
	const n = 50
	first, err := c.Start(ctx, client.StartOptions{ID: "steps"}, "Steps", n)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return o.count(n-1) == 1 })
	old := checkHistory(t, c, "steps")

	if _, err := c.Reset(ctx, "steps", client.ResetOptions{EventSeq: int64(len(old) + 10)}); !errors.Is(err, client.ErrInvalidReset) {
		t.Fatalf("reset past the end: %v", err)
	}
	if _, err := c.Reset(ctx, "nope", client.ResetOptions{EventSeq: 3}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("reset of an unknown instance: %v", err)
	}

	// The run waits for "finish": the reset terminates it atomically.
	r, err := c.Reset(ctx, "steps", client.ResetOptions{EventSeq: 20, Reason: "fix step 9", RequestID: "reset-1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Terminated != first.Run || r.EventSeq < 20 {
		t.Fatalf("reset result %+v", r)
	}
	again, err := c.Reset(ctx, "steps", client.ResetOptions{EventSeq: 20, RequestID: "reset-1"})
	if err != nil || again.Run != r.Run {
		t.Fatalf("a repeated reset made another run: %+v %v", again, err)
	}
	if sums, err := c.List(ctx, client.ListOptions{WorkflowType: "Steps"}); err != nil || len(sums) != 1 ||
		sums[0].Run != r.Run || sums[0].Status != history.StatusRunning {
		t.Fatalf("list after the reset: %+v %v", sums, err)
	}
	oldRun, err := c.Describe(ctx, "steps", first.Run)
	if err != nil || oldRun.Status != history.StatusTerminated {
		t.Fatalf("old run: %+v %v", oldRun, err)
	}
	waitFor(t, ctx, func() bool { return o.count(n-1) == 2 })
	if err := c.Signal(ctx, "steps", "", "finish", true); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := c.Result(ctx, "steps", "", &sum); err != nil || sum != n*(n-1)/2 {
		t.Fatalf("result %d %v", sum, err)
	}
	evs := checkHistory(t, c, "steps")
	for i := 1; i < int(r.EventSeq); i++ {
		if evs[i].Type != old[i].Type || evs[i].Seq != old[i].Seq {
			t.Fatalf("event %d: %s after the reset, %s before", i+1, evs[i].Type, old[i].Type)
		}
	}
	for _, ev := range evs {
		if a, ok := ev.Attributes.(*history.ActivityCompleted); ok && a.Duration <= 0 {
			t.Fatalf("activity %d: no handler duration recorded (event %d)", a.ID, ev.Seq)
		}
	}
	ws := evs[0].Attributes.(*history.WorkflowStarted)
	if ws.Run != r.Run || ws.ResetFrom == nil || ws.ResetFrom.Run != first.Run || ws.ResetFrom.EventSeq != r.EventSeq {
		t.Fatalf("start of the new run: %+v", ws)
	}
	// Steps completed within the prefix ran once; the rest ran again.
	kept := count(evs[:r.EventSeq], history.TypeActivityCompleted)
	for i := range n {
		want := 2
		if i < kept {
			want = 1
		}
		if got := o.count(i); got != want {
			t.Fatalf("step %d ran %d times, want %d (prefix holds %d completed steps)", i, got, want, kept)
		}
	}
	d, err := c.Describe(ctx, "steps", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.ResetFrom == nil || d.Cost == nil || d.Cost.ActivityAttempts != n || d.Cost.WorkflowTasks < n {
		t.Fatalf("describe: reset %+v cost %+v", d.ResetFrom, d.Cost)
	}
	if d.Cost.StepFunctionsUSD != float64(d.Cost.StateTransitions)*cost.StepFunctionsStandardPerTransition ||
		d.Cost.LambdaDurableUSD != float64(d.Cost.DurableOperations)*cost.LambdaDurablePerOperation {
		t.Fatalf("prices: %+v", d.Cost)
	}
	var handlers time.Duration
	for _, ev := range evs {
		if a, ok := ev.Attributes.(*history.ActivityCompleted); ok {
			handlers += a.Duration.D()
		}
	}
	// Active compute is the handlers' time plus the workflow tasks' code
	// time recorded with each commit.
	if d.Cost.ActiveCompute <= handlers || d.Cost.Suspended <= 0 {
		t.Fatalf("times: %+v, handlers %v", d.Cost, handlers)
	}
}

func TestRedriveKeepsTheStepsThatSucceeded(t *testing.T) {
	env := testenv.New(t)
	o := newOps()
	o.bad.Store(true)
	env.StartWorker(t, "default", o.register)
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	first, err := c.Start(ctx, client.StartOptions{ID: "pipe"}, "Pipeline", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Result(ctx, "pipe", "", nil); err == nil {
		t.Fatal("the pipeline did not fail")
	}
	if _, err := c.Redrive(ctx, "nope", "", ""); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("redrive of an unknown instance: %v", err)
	}
	o.bad.Store(false)
	r, err := c.Redrive(ctx, "pipe", "", "downstream fixed")
	if err != nil {
		t.Fatal(err)
	}
	if r.Terminated != "" {
		t.Fatalf("redrive of a closed run terminated %s", r.Terminated)
	}
	var got int
	if err := c.Result(ctx, "pipe", "", &got); err != nil || got != 17 {
		t.Fatalf("result %d %v", got, err)
	}
	if o.count(7) != 1 || o.fails.Load() != 2 {
		t.Fatalf("step ran %d times, fragile failed %d times", o.count(7), o.fails.Load())
	}
	evs := checkHistory(t, c, "pipe")
	var done *history.ActivityCompleted
	for _, ev := range evs {
		if a, ok := ev.Attributes.(*history.ActivityCompleted); ok {
			done = a
		}
	}
	if done == nil || done.Attempt != 1 || count(evs, history.TypeActivityRetrying) != 0 {
		t.Fatalf("the redriven step did not start from attempt 1: %+v", done)
	}
	if ws := evs[0].Attributes.(*history.WorkflowStarted); ws.ResetFrom == nil || ws.ResetFrom.Kind != "redrive" || ws.ResetFrom.Run != first.Run {
		t.Fatalf("start of the redriven run: %+v", ws.ResetFrom)
	}
	if _, err := c.Redrive(ctx, "pipe", "", ""); !errors.Is(err, client.ErrInvalidReset) {
		t.Fatalf("redrive of a completed run: %v", err)
	}
}

// TestResetWhileNoWorkerRuns: the reset needs no worker; the wake waits
// in the inbox and the first worker to come dispatches the new run's work.
func TestResetWhileNoWorkerRuns(t *testing.T) {
	env := testenv.New(t)
	o := newOps()
	w := env.StartWorker(t, "default", o.register)
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "cold"}, "Steps", 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return o.count(2) == 1 })
	w.Kill()
	// Event 3 is the first step's completion: steps 1 and 2 run again.
	r, err := c.Reset(ctx, "cold", client.ResetOptions{EventSeq: 3})
	if err != nil {
		t.Fatal(err)
	}
	env.StartWorker(t, "default", o.register)
	waitFor(t, ctx, func() bool { return o.count(2) == 2 })
	if err := c.Signal(ctx, "cold", r.Run, "finish", true); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := c.Result(ctx, "cold", "", &sum); err != nil || sum != 3 {
		t.Fatalf("result %d %v", sum, err)
	}
	if o.count(0) != 1 || o.count(1) != 2 {
		t.Fatalf("steps ran %d, %d, %d times", o.count(0), o.count(1), o.count(2))
	}
	checkHistory(t, c, "cold")
}
