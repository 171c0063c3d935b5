package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/workercfg"
	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
)

func TestLifecycleHookSeesStartAndCloseInOrder(t *testing.T) {
	env := testenv.New(t)
	var mu sync.Mutex
	got := map[string][]string{}
	hook := orchestrator.WithLifecycle(func(_ context.Context, ev orchestrator.LifecycleEvent) {
		mu.Lock()
		got[ev.WorkflowID] = append(got[ev.WorkflowID], ev.Kind)
		mu.Unlock()
	})
	env.StartWorker(t, "default", func(w *worker.Worker) {
		registerBasics(w)
		registerTimers(w)
	}, workercfg.Engine(hook))
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "lc-ok"}, Sequential, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx, client.StartOptions{ID: "lc-term"}, SleepFor, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Result(ctx, "lc-ok", "", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "lc-term", "")
		return err == nil && len(d.PendingTimers) == 1
	})
	if err := c.Terminate(ctx, "lc-term", "", "bye"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["lc-ok"]) == 2 && len(got["lc-term"]) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if g := got["lc-ok"]; g[0] != orchestrator.LifecycleStarted || g[1] != orchestrator.LifecycleCompleted {
		t.Fatalf("lc-ok: %v", g)
	}
	if g := got["lc-term"]; g[0] != orchestrator.LifecycleStarted || g[1] != orchestrator.LifecycleTerminated {
		t.Fatalf("lc-term: %v", g)
	}
}
