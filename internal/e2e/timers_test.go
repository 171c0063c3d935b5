package e2e

import (
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// SleepFor sleeps and reports how long it slept by the workflow clock,
// which for a timer's fire task is when the fire was processed.
func SleepFor(ctx workflow.Context, d time.Duration) (time.Duration, error) {
	start := workflow.Now(ctx)
	if err := workflow.Sleep(ctx, d); err != nil {
		return 0, err
	}
	return workflow.Now(ctx).Sub(start), nil
}

// CancelTimer starts a timer, cancels it, then waits on a second, shorter
// one: the canceled timer must never fire.
func CancelTimer(ctx workflow.Context, _ struct{}) (string, error) {
	tctx, cancel := workflow.WithCancel(ctx)
	long := workflow.NewTimer(tctx, 300*time.Millisecond)
	cancel()
	if _, err := long.Get(ctx); err == nil {
		return "", nil
	}
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return "", err
	}
	return "ok", nil
}

func registerTimers(w *worker.Worker) {
	w.RegisterWorkflow(SleepFor)
	w.RegisterWorkflow(CancelTimer)
}

func TestSleepNeverFiresEarly(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerTimers)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	begin := time.Now()
	run, err := c.Start(ctx, client.StartOptions{ID: "sleep"}, SleepFor, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var slept time.Duration
	if err := run.Get(ctx, &slept); err != nil {
		t.Fatal(err)
	}
	if slept < 2*time.Second || time.Since(begin) < 2*time.Second {
		t.Fatalf("timer fired early: workflow clock %v, wall clock %v", slept, time.Since(begin))
	}
	events := checkHistory(t, c, "sleep")
	var started, fired time.Time
	for _, ev := range events {
		switch a := ev.Attributes.(type) {
		case *history.TimerStarted:
			started = a.FireAt
		case *history.TimerFired:
			fired = ev.Time
		}
	}
	if fired.Before(started) {
		t.Fatalf("TimerFired recorded at %v, before its due time %v", fired, started)
	}
}

func TestCanceledTimerNeverFires(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerTimers)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	run, err := c.Start(ctx, client.StartOptions{ID: "cancel-timer"}, CancelTimer, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != "ok" {
		t.Fatalf("canceled timer's future did not fail")
	}
	events := checkHistory(t, c, "cancel-timer")
	if n := count(events, history.TypeTimerCanceled); n != 1 {
		t.Fatalf("%d TimerCanceled, want 1", n)
	}
	for _, ev := range events {
		if a, ok := ev.Attributes.(*history.TimerFired); ok && a.ID == 1 {
			t.Fatalf("canceled timer fired: %+v", ev)
		}
	}
	// The schedule was purged: nothing waits in the inbox stream for it.
	s, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstreamSubjects(env.Names().TimerInstanceFilter("cancel-timer")))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.State.Subjects) != 0 {
		t.Fatalf("timer schedules left after close: %v", info.State.Subjects)
	}
}

func TestYearLongTimerIsPending(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerTimers)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	before := time.Now()
	if _, err := c.Start(ctx, client.StartOptions{ID: "year"}, SleepFor, 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	var d *client.Description
	waitFor(t, ctx, func() bool {
		var err error
		d, err = c.Describe(ctx, "year", "")
		return err == nil && len(d.PendingTimers) > 0
	})
	if d.Status != history.StatusRunning || len(d.PendingTimers) != 1 {
		t.Fatalf("describe: status %s, %d pending timers", d.Status, len(d.PendingTimers))
	}
	due := d.PendingTimers[0].FireAt
	want := before.Add(365 * 24 * time.Hour)
	if due.Before(want) || due.After(want.Add(time.Minute)) {
		t.Fatalf("timer due %v, want about %v", due, want)
	}
	// The durable schedule exists in the inbox stream.
	s, _ := env.JetStream().Stream(ctx, env.Names().InboxStream())
	info, err := s.Info(ctx, jetstreamSubjects(env.Names().TimerInstanceFilter("year")))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.State.Subjects) != 1 {
		t.Fatalf("want one timer schedule, got %v", info.State.Subjects)
	}
}
