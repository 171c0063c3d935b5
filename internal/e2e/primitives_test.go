package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Primitives exercises the deterministic toolbox: coroutines, channels, a
// selector over futures and a channel, Step, SideEffect, Random, UUID, Now
// and Await. The test kills the worker while it waits, so the second half
// runs on a replayed instance that must see exactly the same values.
type Report struct {
	Order   []string `json:"order"`
	Step    string   `json:"step"`
	Side    int      `json:"side"`
	Random  uint64   `json:"random"`
	UUID    string   `json:"uuid"`
	Elapsed string   `json:"elapsed"`
}

type stepCounter struct{ path string }

func (s stepCounter) bump() string {
	f, _ := os.OpenFile(s.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	f.WriteString("x")
	f.Close()
	b, _ := os.ReadFile(s.path)
	return fmt.Sprintf("step-ran-%d", len(b))
}

func primitives(sc stepCounter) func(ctx workflow.Context, _ struct{}) (Report, error) {
	return func(ctx workflow.Context, _ struct{}) (Report, error) {
		var r Report
		start := workflow.Now(ctx)
		step, err := workflow.Step(ctx, "once", func() (string, error) { return sc.bump(), nil })
		if err != nil {
			return r, err
		}
		r.Step = step
		r.Side = workflow.SideEffect(ctx, func() int { return time.Now().Nanosecond() })
		r.Random = workflow.Random(ctx)
		r.UUID = workflow.UUID(ctx)

		ch := workflow.NewBufferedChannel[string](ctx, 4)
		done := 0
		for i := range 3 {
			workflow.Go(ctx, func(ctx workflow.Context) {
				_ = workflow.Sleep(ctx, time.Duration(100*(3-i))*time.Millisecond)
				ch.Send(ctx, fmt.Sprintf("g%d", i))
				done++
			})
		}
		if err := workflow.Await(ctx, func() bool { return done == 3 }); err != nil {
			return r, err
		}
		for range 3 {
			v, _ := ch.Receive(ctx)
			r.Order = append(r.Order, v)
		}
		// A long timer against a short activity: the selector picks the
		// activity; the timer's cancellation is recorded.
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(tctx, time.Hour)
		act := workflow.ExecuteActivity(ctx, Add, [2]int{20, 22})
		sel := workflow.NewSelector(ctx)
		workflow.AddFuture(sel, timer, func(workflow.Future[struct{}]) { r.Order = append(r.Order, "timer") })
		workflow.AddFuture(sel, act, func(f workflow.Future[int]) {
			v, _ := f.Get(ctx)
			r.Order = append(r.Order, fmt.Sprintf("act=%d", v))
		})
		sel.Select(ctx)
		cancel()
		// Wait long enough for the test to kill the worker here.
		if err := workflow.Sleep(ctx, 400*time.Millisecond); err != nil {
			return r, err
		}
		r.Elapsed = workflow.Now(ctx).Sub(start).Round(100 * time.Millisecond).String()
		return r, nil
	}
}

func TestDeterministicPrimitivesSurviveReplay(t *testing.T) {
	env := testenv.New(t)
	sc := stepCounter{path: filepath.Join(t.TempDir(), "steps")}
	reg := func(w *worker.Worker) {
		w.RegisterWorkflow(primitives(sc), worker.WithName("Primitives"))
		w.RegisterActivity(Add)
	}
	w := env.StartWorker(t, "default", reg)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "prim"}, "Primitives", struct{}{}); err != nil {
		t.Fatal(err)
	}
	// Kill the worker while the run sleeps after the selector.
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "prim", "")
		return err == nil && len(d.PendingTimers) == 1 && d.PendingTimers[0].FireAt.Sub(d.StartTime) < time.Minute &&
			d.HistoryLength > 10
	})
	w.Kill()
	env.StartWorker(t, "default", reg)
	var r Report
	if err := c.Result(ctx, "prim", "", &r); err != nil {
		t.Fatal(err)
	}
	// The goroutines' timers are ids 3, 4, 5 (g0, g1, g2). Fires recorded
	// in one batch wake their coroutines in creation order; fires in
	// separate batches in history order. The replayed run must agree.
	var fires []string
	var batchTime time.Time
	var batch []int64
	flush := func() {
		slices.Sort(batch)
		for _, id := range batch {
			fires = append(fires, fmt.Sprintf("g%d", id-3))
		}
		batch = nil
	}
	for _, ev := range checkHistory(t, c, "prim") {
		if a, ok := ev.Attributes.(*history.TimerFired); ok && a.ID >= 3 && a.ID <= 5 {
			if !ev.Time.Equal(batchTime) {
				flush()
				batchTime = ev.Time
			}
			batch = append(batch, a.ID)
		}
	}
	flush()
	want := strings.Join(append(fires, "act=42"), ",")
	if got := strings.Join(r.Order, ","); got != want {
		t.Fatalf("order %q, history says %q", got, want)
	}
	if r.Step != "step-ran-1" {
		t.Fatalf("step ran again on replay: %q", r.Step)
	}
	if len(r.UUID) != 36 || r.UUID[14] != '4' {
		t.Fatalf("uuid %q", r.UUID)
	}
	b, _ := os.ReadFile(sc.path)
	if len(b) != 1 {
		t.Fatalf("step executed %d times", len(b))
	}
}
