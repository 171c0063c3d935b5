package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// historyMsgs counts the history messages stored for an id.
func historyMsgs(t *testing.T, env *testenv.Env, id string) uint64 {
	t.Helper()
	s, err := env.JetStream().Stream(context.Background(), env.Names().HistoryStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(env.Names().HistorySubject(id)))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[env.Names().HistorySubject(id)]
}

func TestBadInputIsRejectedAtTheEdge(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", registerBasics)
	ctx := testCtx(t, 30*time.Second)
	c, err := client.New(ctx, env.Conn(), client.WithMaxPayload(1024))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		start func() error
		want  error
	}{
		{"unregistered workflow type", func() error {
			_, err := c.StartRaw(ctx, client.StartOptions{ID: "bad-type"}, "NoSuchWorkflow", []byte(`1`))
			return err
		}, client.ErrUnknownWorkflowType},
		{"type registered on another queue", func() error {
			_, err := c.StartRaw(ctx, client.StartOptions{ID: "bad-queue", TaskQueue: "other"}, "Sequential", []byte(`1`))
			return err
		}, client.ErrUnknownWorkflowType},
		{"malformed JSON input", func() error {
			_, err := c.StartRaw(ctx, client.StartOptions{ID: "bad-json"}, "Sequential", []byte(`{"n": `))
			return err
		}, client.ErrInvalidInput},
		{"unencodable input", func() error {
			_, err := c.Start(ctx, client.StartOptions{ID: "bad-enc"}, Sequential, make(chan int))
			return err
		}, client.ErrInvalidInput},
		{"oversize payload", func() error {
			_, err := c.Start(ctx, client.StartOptions{ID: "bad-size"}, Sequential, strings.Repeat("x", 2048))
			return err
		}, client.ErrPayloadTooLarge},
		{"invalid task queue", func() error {
			_, err := c.Start(ctx, client.StartOptions{ID: "bad-q", TaskQueue: "a.b"}, Sequential, 1)
			return err
		}, client.ErrInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.start()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	for _, id := range []string{"bad-type", "bad-queue", "bad-json", "bad-enc", "bad-size", "bad-q"} {
		if n := historyMsgs(t, env, id); n != 0 {
			t.Errorf("%s: %d history messages stored for a rejected start", id, n)
		}
	}
	t.Run("unknown instance", func(t *testing.T) {
		if _, err := c.Describe(ctx, "nope", ""); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("describe: %v", err)
		}
		if _, err := c.History(ctx, "nope", ""); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("history: %v", err)
		}
		if err := c.Cancel(ctx, "nope", "", ""); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("cancel: %v", err)
		}
		if err := c.Terminate(ctx, "nope", "", ""); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("terminate: %v", err)
		}
		if err := c.Result(ctx, "nope", "", nil); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("result: %v", err)
		}
	})
	// A workflow id can be any UTF-8 string.
	id := "order/ünïcødé *.> 42"
	run, err := c.Start(ctx, client.StartOptions{ID: id}, Sequential, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := run.Get(ctx, &got); err != nil || got != 3 {
		t.Fatalf("odd id: %d, %v", got, err)
	}
}

// Cleanup waits for a long time; on cancel it runs a clean-up activity in a
// disconnected context and returns the cancellation.
func Cleanup(ctx workflow.Context, _ struct{}) (string, error) {
	err := workflow.Sleep(ctx, time.Hour)
	if err == nil {
		return "slept", nil
	}
	dctx := workflow.NewDisconnectedContext(ctx)
	if _, cerr := workflow.ExecuteActivity(dctx, Add, [2]int{1, 1}).Get(dctx); cerr != nil {
		return "", cerr
	}
	return "", err
}

func TestCancelIsCooperative(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) {
		registerBasics(w)
		w.RegisterWorkflow(Cleanup)
	})
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "cancel-me"}, Cleanup, struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "cancel-me", "")
		return err == nil && len(d.PendingTimers) == 1
	})
	if err := c.Cancel(ctx, "cancel-me", "", "customer changed their mind"); err != nil {
		t.Fatal(err)
	}
	err := c.Result(ctx, "cancel-me", "", nil)
	var canceled *failure.CanceledError
	if !errors.As(err, &canceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("result error %v, want a canceled error", err)
	}
	d, err := c.Describe(ctx, "cancel-me", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != history.StatusCanceled {
		t.Fatalf("status %s", d.Status)
	}
	events := checkHistory(t, c, "cancel-me")
	if count(events, history.TypeTimerCanceled) != 1 || count(events, history.TypeActivityCompleted) != 1 {
		t.Fatalf("want the timer canceled and the clean-up activity run: %d, %d",
			count(events, history.TypeTimerCanceled), count(events, history.TypeActivityCompleted))
	}
	if err := c.Cancel(ctx, "cancel-me", "", ""); !errors.Is(err, client.ErrNotRunning) {
		t.Fatalf("cancel of a closed run: %v", err)
	}
}

func TestTerminateNeedsNoWorker(t *testing.T) {
	env := testenv.New(t)
	w := env.StartWorker(t, "default", registerTimers)
	c := env.Client(t)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "term"}, SleepFor, time.Hour); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool {
		d, err := c.Describe(ctx, "term", "")
		return err == nil && len(d.PendingTimers) == 1
	})
	w.Stop()
	d, err := c.Describe(ctx, "term", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Waiting == "" {
		t.Fatal("describe does not say that the run waits for a worker")
	}
	if err := c.Terminate(ctx, "term", "", "stuck"); err != nil {
		t.Fatal(err)
	}
	err = c.Result(ctx, "term", "", nil)
	var term *failure.TerminatedError
	if !errors.As(err, &term) || term.Reason != "stuck" {
		t.Fatalf("result: %v", err)
	}
	events := checkHistory(t, c, "term")
	if events[len(events)-1].Type != history.TypeWorkflowTerminated {
		t.Fatalf("last event %s", events[len(events)-1].Type)
	}
	// A worker coming back cleans up the terminated run's timer schedule.
	env.StartWorker(t, "default", registerTimers)
	waitFor(t, ctx, func() bool {
		s, _ := env.JetStream().Stream(ctx, env.Names().InboxStream())
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(env.Names().TimerInstanceFilter("term")))
		return err == nil && len(info.State.Subjects) == 0
	})
	sums, err := c.List(ctx, client.ListOptions{Status: history.StatusTerminated})
	if err != nil || len(sums) != 1 {
		t.Fatalf("list terminated: %v %v", sums, err)
	}
}
