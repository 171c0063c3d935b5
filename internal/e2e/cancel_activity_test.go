package e2e

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

type longRunner struct{ sawCancel atomic.Bool }

// Long heartbeats until its context is canceled.
func (l *longRunner) Long(ctx context.Context, _ struct{}) (string, error) {
	for {
		select {
		case <-ctx.Done():
			var ce *failure.CanceledError
			if errors.As(context.Cause(ctx), &ce) {
				l.sawCancel.Store(true)
			}
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
			_ = activity.RecordHeartbeat(ctx)
		}
	}
}

// GiveUp starts Long, gives up on it after a while, and reports how the
// future ended.
func GiveUp(ctx workflow.Context, _ struct{}) (string, error) {
	actx, cancel := workflow.WithCancel(ctx)
	f := workflow.ExecuteActivityByName[string](actx, "Long", struct{}{})
	if err := workflow.Sleep(ctx, 300*time.Millisecond); err != nil {
		return "", err
	}
	cancel()
	_, err := f.Get(ctx)
	var ce *failure.CanceledError
	if errors.As(err, &ce) {
		return "canceled", nil
	}
	return "", err
}

func TestCanceledActivitySeesItsContextDone(t *testing.T) {
	env := testenv.New(t)
	l := &longRunner{}
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(GiveUp)
		w.RegisterActivity(l.Long, worker.WithHeartbeatTimeout(5*time.Second))
	})
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "give-up"}, GiveUp, struct{}{}); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.Result(ctx, "give-up", "", &got); err != nil || got != "canceled" {
		t.Fatalf("result %q %v", got, err)
	}
	waitFor(t, ctx, l.sawCancel.Load)
}
