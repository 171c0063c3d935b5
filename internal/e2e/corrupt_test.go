package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// AwaitsGo waits up to an hour for the signal "go" and returns its value
// (the wait's timer makes its first task write a batch).
func AwaitsGo(ctx workflow.Context, _ string) (string, error) {
	return workflow.ReceiveSignalTimeout[string](ctx, "go", time.Hour)
}

// TestCorruptHistoryIsNeverActedOn: a message appended to a history
// subject by something other than the engine (a made-up WorkflowCompleted,
// a body that is not events) is never taken for history: the client's
// result, describe and history fail with ErrCorruptHistory rather than
// report what it says, and the worker parks the instance instead of
// running on it.
func TestCorruptHistoryIsNeverActedOn(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(AwaitsGo) })
	c := env.Client(t)
	ctx := testCtx(t, time.Minute)

	forged := map[string]func(run string) *nats.Msg{
		"forged-close": func(run string) *nats.Msg {
			b, err := history.Batch{{Seq: 99, Time: time.Now(), Type: history.TypeWorkflowCompleted,
				Attributes: &history.WorkflowCompleted{Result: []byte(`"forged"`)}}}.Encode()
			if err != nil {
				t.Fatal(err)
			}
			return historyMsg(env, "forged-close", run, history.StatusCompleted, b)
		},
		"garbage": func(run string) *nats.Msg {
			return historyMsg(env, "garbage", run, history.StatusRunning, []byte("not events"))
		},
	}
	for id, msg := range forged {
		run, err := c.Start(ctx, client.StartOptions{ID: id}, AwaitsGo, "")
		if err != nil {
			t.Fatal(err)
		}
		// The run has started: its worker holds it in its cache.
		testutil.Eventually(t, 30*time.Second, func() error {
			d, err := c.Describe(ctx, id, "")
			if err == nil && d.HistoryLength < 2 {
				err = errors.New("the first workflow task has not run")
			}
			return err
		})
		if _, err := env.JetStream().PublishMsg(ctx, msg(run.Run)); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var got string
		err = c.Result(rctx, id, "", &got)
		cancel()
		if !errors.Is(err, client.ErrCorruptHistory) {
			t.Fatalf("%s: result %q, %v; want ErrCorruptHistory", id, got, err)
		}
		if _, err := c.Describe(ctx, id, ""); !errors.Is(err, client.ErrCorruptHistory) {
			t.Fatalf("%s: describe: %v, want ErrCorruptHistory", id, err)
		}
		if id == "forged-close" {
			continue // the client takes the run for closed: no signal gets to it
		}
		// The signal makes the worker append on its cached copy: the
		// append conflicts, the reload finds the message, the instance is
		// parked.
		if err := c.Signal(ctx, id, "", "go", "now"); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 30*time.Second, func() error {
			sums, err := c.List(ctx, client.ListOptions{})
			if err != nil {
				return err
			}
			for _, s := range sums {
				if s.WorkflowID == id && s.Parked != nil && strings.Contains(s.Parked.Message, "corrupt") {
					return nil
				}
			}
			return errors.New("not parked")
		})
	}
}

// historyMsg is a message on a workflow's history subject with the headers
// the engine writes, copied right: only its body or events give it away.
func historyMsg(env *testenv.Env, id, run string, status history.Status, body []byte) *nats.Msg {
	m := nats.NewMsg(env.Names().HistorySubject(id))
	m.Header.Set("Cairn-Run", run)
	m.Header.Set("Cairn-Status", string(status))
	m.Header.Set("Cairn-Workflow-Type", "AwaitsGo")
	m.Header.Set("Cairn-Task-Queue", "default")
	m.Data = body
	return m
}
