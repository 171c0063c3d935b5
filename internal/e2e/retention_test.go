package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Quick completes at once.
func Quick(ctx workflow.Context, _ struct{}) (string, error) { return "done", nil }

// Held runs until it receives "go".
func Held(ctx workflow.Context, _ struct{}) (string, error) {
	_, err := workflow.ReceiveSignal[string](ctx, "go")
	return "released", err
}

func registerRetention(w *worker.Worker) {
	w.RegisterWorkflow(Quick)
	w.RegisterWorkflow(Held)
}

// gone reports whether an instance is purged: no history, no summary.
func gone(t *testing.T, ctx context.Context, c *client.Client, id string) bool {
	t.Helper()
	_, err := c.Describe(ctx, id, "")
	if err == nil {
		return false
	}
	if !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("describe %s: %v", id, err)
	}
	sums, err := c.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		if s.WorkflowID == id {
			return false
		}
	}
	return true
}

func TestRetentionPurgesClosedNotRunning(t *testing.T) {
	env := testenv.New(t)
	ctx := testCtx(t, 60*time.Second)
	env.StartWorker(t, "default", registerRetention, worker.WithRetention(2*time.Second))
	c := env.Client(t)
	if _, err := c.Start(ctx, client.StartOptions{ID: "held"}, Held, struct{}{}); err != nil {
		t.Fatal(err)
	}
	run, err := c.Start(ctx, client.StartOptions{ID: "quick"}, Quick, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return gone(t, ctx, c, "quick") })
	// The history subject is empty, not just unreadable.
	hist, err := env.JetStream().Stream(ctx, env.Names().HistoryStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := hist.Info(ctx, jetstreamSubjects(env.Names().HistorySubject("quick")))
	if err != nil || len(info.State.Subjects) != 0 {
		t.Fatalf("history of a purged instance: %v %v", info.State.Subjects, err)
	}
	// The running one stays, and is purged after it closes.
	if d, err := c.Describe(ctx, "held", ""); err != nil || d.Status != history.StatusRunning {
		t.Fatalf("running instance: %+v %v", d, err)
	}
	if err := c.Signal(ctx, "held", "", "go", "go-1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Result(ctx, "held", "", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return gone(t, ctx, c, "held") })
	// The id can be used again.
	if _, err := c.Start(ctx, client.StartOptions{ID: "quick", WorkflowIDReusePolicy: client.WorkflowIDReusePolicyRejectDuplicate}, Quick, struct{}{}); err != nil {
		t.Fatalf("start a purged id again: %v", err)
	}
}

// TestRetentionSparesRestartedInstance closes an instance and starts it
// again under the same id before its retention ends: the due purge must
// leave the new run (and, since history is per instance, the old one).
func TestRetentionSparesRestartedInstance(t *testing.T) {
	env := testenv.New(t)
	ctx := testCtx(t, 60*time.Second)
	env.StartWorker(t, "default", registerRetention, worker.WithRetention(2*time.Second))
	c := env.Client(t)
	first, err := c.Start(ctx, client.StartOptions{ID: "again"}, Quick, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	control, err := c.Start(ctx, client.StartOptions{ID: "control"}, Quick, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := control.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	second, err := c.Start(ctx, client.StartOptions{ID: "again"}, Held, struct{}{})
	if err != nil || !second.Created {
		t.Fatalf("restart: %+v %v", second, err)
	}
	// The control closed after the first run: once it is purged, the
	// first run's schedule has fired too. Then wait for the consumer to
	// have handled every due message.
	waitFor(t, ctx, func() bool { return gone(t, ctx, c, "control") })
	inbox, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	cons, err := inbox.Consumer(ctx, env.Names().RetentionConsumer())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.Delivered.Consumer >= 2 && info.NumAckPending == 0 && info.NumPending == 0
	})
	d, err := c.Describe(ctx, "again", "")
	if err != nil || d.Run != second.Run || d.Status != history.StatusRunning {
		t.Fatalf("the restarted run: %+v %v", d, err)
	}
	if _, err := c.History(ctx, "again", first.Run); err != nil {
		t.Fatalf("the first run's history: %v", err)
	}
	sums, err := c.List(ctx, client.ListOptions{})
	if err != nil || len(sums) != 1 || sums[0].Run != second.Run {
		t.Fatalf("list: %+v %v", sums, err)
	}
	// Closing the new run purges the whole instance later.
	if err := c.Signal(ctx, "again", "", "go", "go-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return gone(t, ctx, c, "again") })
}

func TestPurgeByHand(t *testing.T) {
	env := testenv.New(t)
	ctx := testCtx(t, 60*time.Second)
	// Kept forever: only a manual purge removes anything.
	env.StartWorker(t, "default", registerRetention, worker.WithRetention(0))
	c := env.Client(t)
	if err := c.Purge(ctx, "nobody", ""); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("purge unknown: %v", err)
	}
	first, err := c.Start(ctx, client.StartOptions{ID: "manual"}, Held, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Purge(ctx, "manual", ""); !errors.Is(err, client.ErrStillRunning) {
		t.Fatalf("purge running: %v", err)
	}
	if err := c.Signal(ctx, "manual", "", "go", "go-1"); err != nil {
		t.Fatal(err)
	}
	if err := first.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	second, err := c.Start(ctx, client.StartOptions{ID: "manual"}, Quick, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// An older run names the wrong target: the newer run would go too.
	if err := c.Purge(ctx, "manual", first.Run); !errors.Is(err, client.ErrNewerRun) {
		t.Fatalf("purge an older run: %v", err)
	}
	waitFor(t, ctx, func() bool {
		sums, err := c.List(ctx, client.ListOptions{Status: history.StatusCompleted})
		return err == nil && len(sums) == 1 && sums[0].Run == second.Run
	})
	if err := c.Purge(ctx, "manual", second.Run); err != nil {
		t.Fatal(err)
	}
	if !gone(t, ctx, c, "manual") {
		t.Fatal("purged instance still there")
	}
	if err := c.Purge(ctx, "manual", ""); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("purge twice: %v", err)
	}
	// With retention off nothing else is purged: a closed instance stays.
	other, err := c.Start(ctx, client.StartOptions{ID: "kept"}, Quick, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	inbox, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := inbox.Info(ctx, jetstreamSubjects(env.Names().RetentionWildcard()))
	if err != nil || len(info.State.Subjects) != 0 {
		t.Fatalf("retention schedules with retention off: %v %v", info.State.Subjects, err)
	}
}

// TestForgedRetentionIsRefused: a retention message published by hand for
// a run that closed a moment ago (the engine's schedule would come in an
// hour) purges nothing.
func TestForgedRetentionIsRefused(t *testing.T) {
	env := testenv.New(t)
	ctx := testCtx(t, 60*time.Second)
	env.StartWorker(t, "default", registerRetention, worker.WithRetention(time.Hour))
	c := env.Client(t)
	run, err := c.Start(ctx, client.StartOptions{ID: "kept"}, Quick, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "bWFkZS11cA"} {
		m := nats.NewMsg(env.Names().RetentionDueSubject("kept"))
		m.Header.Set("Cairn-Run", run.Run)
		if tok != "" {
			m.Header.Set(store.HeaderTimerToken, tok)
		}
		if _, err := env.JetStream().PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	inbox, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	cons, err := inbox.Consumer(ctx, env.Names().RetentionConsumer())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.Delivered.Consumer >= 2 && info.NumAckPending == 0 && info.NumPending == 0
	})
	if d, err := c.Describe(ctx, "kept", ""); err != nil || d.Status != history.StatusCompleted {
		t.Fatalf("after the forged retention messages: %+v, %v; want the completed run kept", d, err)
	}
}
