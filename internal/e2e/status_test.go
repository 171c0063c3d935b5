package e2e

import (
	"testing"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

type Progress struct {
	Stage string `json:"stage"`
	Done  int    `json:"done"`
}

func Staged(ctx workflow.Context, _ struct{}) (string, error) {
	if err := workflow.SetStatus(ctx, Progress{Stage: "waiting", Done: 1}); err != nil {
		return "", err
	}
	if _, err := workflow.ReceiveSignal[string](ctx, "go"); err != nil {
		return "", err
	}
	_ = workflow.SetStatus(ctx, Progress{Stage: "finished", Done: 2})
	return "ok", nil
}

func TestCustomStatusInDescribeAndList(t *testing.T) {
	env := testenv.New(t)
	w := env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Staged) })
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "staged"}, Staged, struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "staged", "")
		return err == nil && string(d.CustomStatus) == `{"stage":"waiting","done":1}`
	})
	waitFor(t, ctx, func() bool {
		l, err := c.List(ctx, client.ListOptions{})
		return err == nil && len(l) == 1 && string(l[0].CustomStatus) == `{"stage":"waiting","done":1}`
	})
	// The status survives a replay on another worker.
	w.Kill()
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Staged) })
	if err := c.Signal(ctx, "staged", "", "go", "now"); err != nil {
		t.Fatal(err)
	}
	if err := c.Result(ctx, "staged", "", nil); err != nil {
		t.Fatal(err)
	}
	d, err := c.Describe(ctx, "staged", "")
	if err != nil || string(d.CustomStatus) != `{"stage":"finished","done":2}` {
		t.Fatalf("describe after close: %s %v", d.CustomStatus, err)
	}
	checkHistory(t, c, "staged")
}
