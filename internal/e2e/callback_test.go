package e2e

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/testutil"
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

// TestCallbackDecidedOnce: of the decisions sent for one token, exactly one
// wins and every other is refused, whatever the timing; a repeat of the
// winning call succeeds again.
func TestCallbackDecidedOnce(t *testing.T) {
	env := testenv.New(t)
	b := &inbox{tokens: map[string]string{}, sent: map[string][]string{}}
	reg := func(w *worker.Worker) { w.RegisterWorkflow(b.approval, worker.WithName("Approval")) }
	c := env.Client(t)
	ctx := testCtx(t, 90*time.Second)
	// waitOpen waits until the wait of id is recorded in history: the
	// token is handed out before the workflow task commits.
	waitOpen := func(t *testing.T, id string) string {
		t.Helper()
		testutil.Eventually(t, 30*time.Second, func() error {
			if b.token(id) == "" {
				return errors.New("no token yet")
			}
			events, err := c.History(ctx, id, "")
			if err != nil {
				return err
			}
			if count(events, history.TypeCallbackStarted) != 1 {
				return errors.New("callback not started yet")
			}
			return nil
		})
		return b.token(id)
	}

	t.Run("worker stopped: complete, then fail, loses the fail", func(t *testing.T) {
		w := env.StartWorker(t, "default", reg)
		if _, err := c.Start(ctx, client.StartOptions{ID: "stopped"}, "Approval", ApprovalIn{Timeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
		token := waitOpen(t, "stopped")
		w.Stop()
		if err := c.CompleteCallback(ctx, token, "A"); err != nil {
			t.Fatal(err)
		}
		if err := c.FailCallback(ctx, token, "Rejected", "no"); !errors.Is(err, client.ErrCallbackNotPending) {
			t.Fatalf("fail after complete: %v", err)
		}
		if err := c.CompleteCallback(ctx, token, "B"); !errors.Is(err, client.ErrCallbackNotPending) {
			t.Fatalf("other completion: %v", err)
		}
		if err := c.CompleteCallback(ctx, token, "A"); err != nil {
			t.Fatalf("repeated completion: %v", err)
		}
		env.StartWorker(t, "default", reg)
		var got string
		if err := c.Result(ctx, "stopped", "", &got); err != nil || got != "A" {
			t.Fatalf("result %q %v", got, err)
		}
		if err := c.CompleteCallback(ctx, token, "A"); err != nil {
			t.Fatalf("repeat after delivery: %v", err)
		}
		if err := c.FailCallback(ctx, token, "Rejected", "no"); !errors.Is(err, client.ErrCallbackNotPending) {
			t.Fatalf("fail after delivery: %v", err)
		}
		if n := count(checkHistory(t, c, "stopped"), history.TypeCallbackCompleted); n != 1 {
			t.Fatalf("%d completions in history", n)
		}
	})

	t.Run("worker stopped: fail, then complete, loses the complete", func(t *testing.T) {
		w := env.StartWorker(t, "default", reg)
		if _, err := c.Start(ctx, client.StartOptions{ID: "stopped-fail"}, "Approval", ApprovalIn{Timeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
		token := waitOpen(t, "stopped-fail")
		w.Stop()
		if err := c.FailCallback(ctx, token, "Rejected", "over budget"); err != nil {
			t.Fatal(err)
		}
		if err := c.FailCallback(ctx, token, "Rejected", "over budget"); err != nil {
			t.Fatalf("repeated failure: %v", err)
		}
		if err := c.FailCallback(ctx, token, "Rejected", "another reason"); !errors.Is(err, client.ErrCallbackNotPending) {
			t.Fatalf("other failure: %v", err)
		}
		if err := c.CompleteCallback(ctx, token, "A"); !errors.Is(err, client.ErrCallbackNotPending) {
			t.Fatalf("complete after fail: %v", err)
		}
		env.StartWorker(t, "default", reg)
		err := c.Result(ctx, "stopped-fail", "", nil)
		var app *failure.ApplicationError
		if !errors.As(err, &app) || app.Type != "Rejected" || app.Message != "over budget" {
			t.Fatalf("result %v", err)
		}
	})

	t.Run("racing decisions with a live worker", func(t *testing.T) {
		env.StartWorker(t, "default", reg)
		for round := range 15 {
			id := fmt.Sprintf("race-%d", round)
			if _, err := c.Start(ctx, client.StartOptions{ID: id}, "Approval", ApprovalIn{Timeout: time.Hour}); err != nil {
				t.Fatal(err)
			}
			token := waitOpen(t, id)
			const deciders = 4 // the last one fails the callback
			errs := make([]error, deciders)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range deciders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if i == deciders-1 {
						errs[i] = c.FailCallback(ctx, token, "Rejected", "decider "+strconv.Itoa(i))
					} else {
						errs[i] = c.CompleteCallback(ctx, token, "decider "+strconv.Itoa(i))
					}
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("round %d: deciders %d and %d both won", round, winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, client.ErrCallbackNotPending):
					t.Fatalf("round %d: decider %d: %v", round, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no decider won: %v", round, errs)
			}
			var got string
			err := c.Result(ctx, id, "", &got)
			want := "decider " + strconv.Itoa(winner)
			if winner == deciders-1 {
				var app *failure.ApplicationError
				if !errors.As(err, &app) || app.Message != want {
					t.Fatalf("round %d: failure %s won, result %q %v", round, want, got, err)
				}
			} else if err != nil || got != want {
				t.Fatalf("round %d: %s won, result %q %v", round, want, got, err)
			}
		}
	})
}
