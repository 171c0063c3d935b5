package e2e

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// inbox is the "e-mail" the approval workflow sends its token to.
type inbox struct {
	mu     sync.Mutex
	tokens map[string]string
	// sent holds every token submitted per instance: a submit may repeat
	// after a crash, but always with the token already handed out.
	sent map[string][]string
}

func (b *inbox) token(id string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens[id]
}

type ApprovalIn struct {
	Request   string
	Timeout   time.Duration
	Heartbeat time.Duration
}

// approval submits a request to a human and waits for the decision; no
// decision in time escalates.
func (b *inbox) approval(ctx workflow.Context, in ApprovalIn) (string, error) {
	id := workflow.GetInfo(ctx).WorkflowID
	decision, err := workflow.WaitForCallback[string](ctx, "manager-approval", func(token string) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.tokens[id] = token
		b.sent[id] = append(b.sent[id], token)
		return nil
	}, workflow.CallbackOptions{Timeout: in.Timeout, HeartbeatTimeout: in.Heartbeat})
	var to *failure.TimeoutError
	if errors.As(err, &to) {
		return "escalated (" + to.Kind + ")", nil
	}
	return decision, err
}

func TestApprovalWithCallbackTokens(t *testing.T) {
	env := testenv.New(t)
	b := &inbox{tokens: map[string]string{}, sent: map[string][]string{}}
	reg := func(w *worker.Worker) { w.RegisterWorkflow(b.approval, worker.WithName("Approval")) }
	w := env.StartWorker(t, "default", reg)
	outer := t
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	waitToken := func(id string) string {
		waitFor(t, ctx, func() bool { return b.token(id) != "" })
		return b.token(id)
	}

	t.Run("approved across a worker crash, then a repeat is rejected", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "approve"}, "Approval", ApprovalIn{Request: "laptop", Timeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
		token := waitToken("approve")
		w.Kill()
		w = env.StartWorker(outer, "default", reg) // outlives this subtest
		if err := c.CompleteCallback(ctx, token, "approved"); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := c.Result(ctx, "approve", "", &got); err != nil || got != "approved" {
			t.Fatalf("result %q %v", got, err)
		}
		if err := c.CompleteCallback(ctx, token, "approved again"); !errors.Is(err, client.ErrCallbackNotPending) {
			t.Fatalf("repeated completion: %v", err)
		}
		b.mu.Lock()
		sent := b.sent["approve"]
		b.mu.Unlock()
		for _, tok := range sent {
			if tok != token {
				t.Fatalf("submits across the crash handed out different tokens: %q", sent)
			}
		}
		events := checkHistory(t, c, "approve")
		if count(events, history.TypeCallbackCompleted) != 1 || count(events, history.TypeTimerCanceled) != 1 {
			t.Fatal("completion or timeout cancellation missing from history")
		}
	})
	t.Run("no decision escalates, and a late one is rejected", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "ignored"}, "Approval", ApprovalIn{Timeout: 300 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		token := waitToken("ignored")
		var got string
		if err := c.Result(ctx, "ignored", "", &got); err != nil || got != "escalated (callback)" {
			t.Fatalf("result %q %v", got, err)
		}
		if err := c.CompleteCallback(ctx, token, "too late"); !errors.Is(err, client.ErrCallbackNotPending) {
			t.Fatalf("late completion: %v", err)
		}
	})
	t.Run("heartbeats keep the wait alive", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "beating"}, "Approval", ApprovalIn{Timeout: time.Hour, Heartbeat: 400 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		token := waitToken("beating")
		for range 4 {
			time.Sleep(200 * time.Millisecond)
			if err := c.HeartbeatCallback(ctx, token); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.FailCallback(ctx, token, "Rejected", "over budget"); err != nil {
			t.Fatal(err)
		}
		err := c.Result(ctx, "beating", "", nil)
		var app *failure.ApplicationError
		if !errors.As(err, &app) || app.Type != "Rejected" {
			t.Fatalf("result %v", err)
		}
		if n := count(checkHistory(t, c, "beating"), history.TypeCallbackHeartbeat); n < 3 {
			t.Fatalf("%d heartbeats recorded", n)
		}
	})
	t.Run("a silent party times out on heartbeats", func(t *testing.T) {
		if _, err := c.Start(ctx, client.StartOptions{ID: "silent"}, "Approval", ApprovalIn{Timeout: time.Hour, Heartbeat: 300 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := c.Result(ctx, "silent", "", &got); err != nil || got != "escalated (callback-heartbeat)" {
			t.Fatalf("result %q %v", got, err)
		}
	})
	t.Run("malformed tokens", func(t *testing.T) {
		for _, tok := range []string{"", "not-base64!", "e30", waitToken("approve") + "x"} {
			if err := c.CompleteCallback(ctx, tok, 1); !errors.Is(err, client.ErrInvalidToken) && !errors.Is(err, client.ErrCallbackNotPending) {
				t.Errorf("token %q: %v", tok, err)
			}
		}
	})
}

// cleanupAfterCancel waits for a callback; canceled, it keeps running
// (on a disconnected context) until it gets the "finish" signal, so the
// run is still open while the test checks that the callback is closed.
func (b *inbox) cleanupAfterCancel(ctx workflow.Context, _ string) (string, error) {
	id := workflow.GetInfo(ctx).WorkflowID
	_, err := workflow.WaitForCallback[string](ctx, "review", func(token string) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.tokens[id] = token
		return nil
	}, workflow.CallbackOptions{Timeout: time.Hour})
	var ce *failure.CanceledError
	if !errors.As(err, &ce) {
		return "", err
	}
	if _, serr := workflow.ReceiveSignal[string](workflow.NewDisconnectedContext(ctx), "finish"); serr != nil {
		return "", serr
	}
	return "", err
}

func TestCanceledCallbackWaitClosesTheCallback(t *testing.T) {
	env := testenv.New(t)
	b := &inbox{tokens: map[string]string{}, sent: map[string][]string{}}
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(b.cleanupAfterCancel, worker.WithName("CleanupAfterCancel"))
	})
	c := env.Client(t)
	ctx := testCtx(t, 60*time.Second)
	if _, err := c.Start(ctx, client.StartOptions{ID: "canceled-wait"}, "CleanupAfterCancel", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, func() bool { return b.token("canceled-wait") != "" })
	token := b.token("canceled-wait")
	if err := c.Cancel(ctx, "canceled-wait", "", "no longer needed"); err != nil {
		t.Fatal(err)
	}
	// The task that records the cancel request records the close with it.
	var batch history.Batch
	waitFor(t, ctx, func() bool {
		batches, err := c.HistoryBatches(ctx, "canceled-wait", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, bt := range batches {
			if len(bt) > 0 && bt[0].Type == history.TypeWorkflowCancelRequested {
				batch = bt
				return true
			}
		}
		return false
	})
	var closed *history.CallbackTimedOut
	for _, ev := range batch {
		if a, ok := ev.Attributes.(*history.CallbackTimedOut); ok {
			closed = a
		}
	}
	if closed == nil || closed.Reason != "canceled" {
		t.Fatalf("the cancel's batch does not close the callback: %v", batch)
	}
	d, err := c.Describe(ctx, "canceled-wait", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != history.StatusRunning || len(d.PendingCallbacks) != 0 {
		t.Fatalf("status %s, pending callbacks %+v", d.Status, d.PendingCallbacks)
	}
	before := len(checkHistory(t, c, "canceled-wait"))
	if err := c.CompleteCallback(ctx, token, "too late"); !errors.Is(err, client.ErrCallbackNotPending) {
		t.Fatalf("completion after the cancel: %v", err)
	}
	if err := c.Signal(ctx, "canceled-wait", "", "finish", "now"); err != nil {
		t.Fatal(err)
	}
	var ce *failure.CanceledError
	if err := c.Result(ctx, "canceled-wait", "", nil); !errors.As(err, &ce) {
		t.Fatalf("result %v, want canceled", err)
	}
	events := checkHistory(t, c, "canceled-wait")
	if count(events, history.TypeCallbackCompleted) != 0 || count(events, history.TypeCallbackTimedOut) != 1 {
		t.Fatalf("history after the late completion: %d events before, %v", before, events)
	}
}
