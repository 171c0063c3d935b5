package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// TestYearLongWorkflow is the proof of the time-skipping env: twelve
// monthly charges with a 30-day sleep after each run a year of virtual
// time without a server (BenchmarkYearLongWorkflow has the figure).
func TestYearLongWorkflow(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.RegisterActivity(ChargeMonth)
	we.ExecuteWorkflow(Subscription, Plan{Customer: "ada", Months: 12, Every: month, Cents: 999})

	var s Statement
	if err := we.Result(&s); err != nil {
		t.Fatal(err)
	}
	if len(s.Charges) != 12 || s.Charges[0] != "ch_ada_1_1" || s.Charges[11] != "ch_ada_12_1" || s.Welcome != "welcome ada" {
		t.Fatalf("statement %+v", s)
	}
	if want := testenv.DefaultStartTime.Add(12 * month); !s.Ended.Equal(want) || !we.Now().Equal(want) {
		t.Fatalf("ended %s, env at %s, want %s", s.Ended, we.Now(), want)
	}
	if n := we.ActivityCalls("ChargeMonth"); n != 12 {
		t.Fatalf("%d charges", n)
	}
	// One batch for the start, then per month one with the charge's
	// result and the timer, one with the fire and the next charge.
	if n := len(we.History()); n != 1+1+12*2 {
		t.Fatalf("%d batches", n)
	}
}

// TestMockRetriesInVirtualTime: a mock fails twice; the retry policy's
// backoff (1 h, then 2 h) passes in virtual time.
func TestMockRetriesInVirtualTime(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.OnActivity(ChargeMonth, func(ctx context.Context, b Bill) (string, error) {
		if a := activity.GetInfo(ctx).Attempt; a < 3 {
			return "", errors.New("gateway unavailable")
		}
		return "mocked", nil
	})
	we.ExecuteWorkflow(Subscription, Plan{Customer: "bob", Months: 1, Every: time.Minute, Cents: 1})
	var s Statement
	if err := we.Result(&s); err != nil {
		t.Fatal(err)
	}
	if len(s.Charges) != 1 || s.Charges[0] != "mocked" || we.ActivityCalls("ChargeMonth") != 3 {
		t.Fatalf("statement %+v after %d calls", s, we.ActivityCalls("ChargeMonth"))
	}
	if got, want := s.Ended.Sub(testenv.DefaultStartTime), 3*time.Hour+time.Minute; got != want {
		t.Fatalf("took %s of virtual time, want %s", got, want)
	}
}

func TestActivityFailures(t *testing.T) {
	t.Run("non-retryable", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.RegisterActivity(ChargeMonth)
		we.ExecuteWorkflow(Subscription, Plan{Customer: "eve", Months: 1, Every: time.Hour, Cents: 0})
		var ae *failure.ActivityError
		var app *failure.ApplicationError
		if err := we.Err(); !errors.As(err, &ae) || !errors.As(err, &app) || app.Type != "CardDeclined" || ae.Attempt != 1 {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("attempts exhausted", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.OnActivity("ChargeMonth", func(context.Context, Bill) (string, error) { return "", errDeclined })
		we.ExecuteWorkflow(Subscription, Plan{Customer: "eve", Months: 1, Every: time.Hour, Cents: 1})
		var ae *failure.ActivityError
		if err := we.Err(); !errors.As(err, &ae) || ae.Attempt != 3 || !strings.Contains(err.Error(), "declined") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("not registered", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.ExecuteWorkflow(Subscription, Plan{Customer: "eve", Months: 1, Every: time.Hour, Cents: 1})
		if err := we.Err(); err == nil || !strings.Contains(err.Error(), "neither registered nor mocked") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("failing for ever", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t, testenv.WithMaxTasks(50))
		we.OnActivity("Flaky", func(context.Context, string) (string, error) { return "", errors.New("down") })
		we.ExecuteWorkflow(func(ctx workflow.Context, in string) (string, error) {
			return workflow.ExecuteActivityByName[string](ctx, "Flaky", in).Get(ctx)
		}, "x")
		if err := we.Err(); !errors.Is(err, testenv.ErrTooManyTasks) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestSkipSignalQuery drives a workflow step by step: start, query, skip
// a day, raise the event, read the result.
func TestSkipSignalQuery(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.Start(Approval, "expense 42")
	var stage string
	if err := we.Query("stage", nil, &stage); err != nil || stage != "waiting" {
		t.Fatalf("stage %q, %v", stage, err)
	}
	we.Skip(24 * time.Hour)
	if we.Closed() || !errors.Is(we.Err(), testenv.ErrStillRunning) {
		t.Fatalf("closed after a day: %v", we.Err())
	}
	we.Signal("decision", "approved")
	var out string
	if err := we.Result(&out); err != nil || out != "expense 42: approved at 2030-01-02T00:00:00Z" {
		t.Fatalf("result %q, %v", out, err)
	}
	if err := we.Query("stage", nil, &stage); err != nil || stage != "decided" {
		t.Fatalf("stage %q, %v", stage, err)
	}
}

func TestDelayedSignalAndTimeout(t *testing.T) {
	t.Run("signal at 48h", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.SignalAt(48*time.Hour, "decision", "rejected")
		we.ExecuteWorkflow(Approval, "trip")
		var out string
		if err := we.Result(&out); err != nil || out != "trip: rejected at 2030-01-03T00:00:00Z" {
			t.Fatalf("result %q, %v", out, err)
		}
	})
	t.Run("nobody decides", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.ExecuteWorkflow(Approval, "trip")
		var te *failure.TimeoutError
		if err := we.Err(); !errors.As(err, &te) || te.Kind != workflow.TimeoutSignal {
			t.Fatalf("err %v", err)
		}
		if got := we.Now().Sub(testenv.DefaultStartTime); got != 72*time.Hour {
			t.Fatalf("gave up after %s", got)
		}
	})
	t.Run("signal before start", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.Signal("decision", "approved")
		we.ExecuteWorkflow(Approval, "early")
		if err := we.Err(); err != nil || we.Now() != testenv.DefaultStartTime {
			t.Fatalf("err %v at %s", err, we.Now())
		}
	})
	t.Run("execution timeout", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t, testenv.WithWorkflowExecutionTimeout(10*24*time.Hour))
		we.RegisterActivity(ChargeMonth)
		we.ExecuteWorkflow(Subscription, Plan{Customer: "ada", Months: 12, Every: month, Cents: 1})
		var te *failure.TimeoutError
		if err := we.Err(); !errors.As(err, &te) || te.Kind != failure.TimeoutWorkflowExecution {
			t.Fatalf("err %v", err)
		}
		if got := we.Now().Sub(testenv.DefaultStartTime); got != 10*24*time.Hour {
			t.Fatalf("timed out after %s", got)
		}
	})
}

func TestCancelRunsCleanup(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	var refunded []string
	we.OnActivity("Refund", func(_ context.Context, id string) (struct{}, error) {
		refunded = append(refunded, id)
		return struct{}{}, nil
	})
	we.Start(func(ctx workflow.Context, id string) (string, error) {
		if err := workflow.Sleep(ctx, 365*24*time.Hour); err != nil {
			dctx := workflow.NewDisconnectedContext(ctx)
			_, _ = workflow.ExecuteActivityByName[struct{}](dctx, "Refund", id).Get(dctx)
			return "", err
		}
		return "shipped", nil
	}, "order-7")
	we.Skip(time.Hour)
	we.CancelWorkflow("customer changed their mind")
	var ce *failure.CanceledError
	if err := we.Err(); !errors.As(err, &ce) || len(refunded) != 1 || refunded[0] != "order-7" {
		t.Fatalf("err %v, refunded %v", err, refunded)
	}
}

func TestCallback(t *testing.T) {
	wait := func(ctx workflow.Context, ticket string) (string, error) {
		return workflow.WaitForCallback[string](ctx, "review", func(token string) error { return nil },
			workflow.CallbackOptions{Timeout: 7 * 24 * time.Hour})
	}
	t.Run("completed", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.Start(wait, "T-1")
		token, ok := we.CallbackToken("review")
		if !ok {
			t.Fatal("no open callback")
		}
		we.Skip(2 * time.Hour)
		if err := we.CompleteCallback(token, "lgtm", nil); err != nil {
			t.Fatal(err)
		}
		var out string
		if err := we.Result(&out); err != nil || out != "lgtm" {
			t.Fatalf("result %q, %v", out, err)
		}
		if err := we.CompleteCallback(token, "again", nil); !errors.Is(err, store.ErrCallbackNotPending) {
			t.Fatalf("second completion: %v", err)
		}
	})
	closedBy := func(we *testenv.WorkflowEnv) []string {
		var reasons []string
		for _, b := range we.History() {
			for _, ev := range b {
				if a, ok := ev.Attributes.(*history.CallbackTimedOut); ok {
					reasons = append(reasons, a.Reason)
				}
			}
		}
		return reasons
	}
	t.Run("canceled", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		// Canceled, the workflow stays open until "finish".
		we.Start(func(ctx workflow.Context, ticket string) (string, error) {
			_, err := wait(ctx, ticket)
			_, _ = workflow.ReceiveSignal[string](workflow.NewDisconnectedContext(ctx), "finish")
			return "", err
		}, "T-3")
		token, ok := we.CallbackToken("review")
		if !ok {
			t.Fatal("no open callback")
		}
		we.Skip(time.Hour)
		we.CancelWorkflow("not needed")
		if got := closedBy(we); len(got) != 1 || got[0] != "canceled" {
			t.Fatalf("callback closed by %q", got)
		}
		if _, ok := we.CallbackToken("review"); ok {
			t.Fatal("the canceled wait's callback is still open")
		}
		if err := we.CompleteCallback(token, "late", nil); !errors.Is(err, store.ErrCallbackNotPending) {
			t.Fatalf("completion after the cancel: %v", err)
		}
		we.Signal("finish", "")
		var ce *failure.CanceledError
		if err := we.Err(); !errors.As(err, &ce) {
			t.Fatalf("err %v", err)
		}
		for _, b := range we.History() {
			for _, ev := range b {
				if ev.Type == history.TypeCallbackCompleted {
					t.Fatal("the late completion reached history")
				}
			}
		}
	})
	t.Run("submit failed", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.Start(func(ctx workflow.Context, ticket string) (string, error) {
			_, err := workflow.WaitForCallback[string](ctx, "review", func(token string) error { return errors.New("mail down") },
				workflow.CallbackOptions{})
			_, _ = workflow.ReceiveSignal[string](ctx, "finish")
			return "", err
		}, "T-4")
		if got := closedBy(we); len(got) != 1 || got[0] != "submit-failed" {
			t.Fatalf("callback closed by %q", got)
		}
		if _, ok := we.CallbackToken("review"); ok {
			t.Fatal("the callback of a failed submit is still open")
		}
		we.Signal("finish", "")
		if err := we.Err(); err == nil || !strings.Contains(err.Error(), "mail down") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("timed out", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.ExecuteWorkflow(wait, "T-2")
		var te *failure.TimeoutError
		if err := we.Err(); !errors.As(err, &te) || te.Kind != workflow.TimeoutCallback || we.Now().Sub(testenv.DefaultStartTime) != 7*24*time.Hour {
			t.Fatalf("err %v at %s", err, we.Now())
		}
		if got := closedBy(we); len(got) != 1 || got[0] != "timeout" {
			t.Fatalf("callback closed by %q", got)
		}
	})
}

func Child(ctx workflow.Context, n int) (int, error) {
	if err := workflow.Sleep(ctx, time.Duration(n)*24*time.Hour); err != nil {
		return 0, err
	}
	return n * 10, nil
}

func Parent(ctx workflow.Context, ns []int) (int, error) {
	var fs []workflow.Future[int]
	for _, n := range ns {
		fs = append(fs, workflow.ExecuteChildWorkflow(ctx, Child, n))
	}
	vs, err := workflow.All(ctx, fs...)
	sum := 0
	for _, v := range vs {
		sum += v
	}
	return sum, err
}

func TestChildWorkflows(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.RegisterWorkflow(Child)
	we.ExecuteWorkflow(Parent, []int{1, 5, 3})
	var sum int
	if err := we.Result(&sum); err != nil || sum != 90 {
		t.Fatalf("sum %d, %v", sum, err)
	}
	if got := we.Now().Sub(testenv.DefaultStartTime); got != 5*24*time.Hour {
		t.Fatalf("children took %s", got)
	}

	t.Run("not registered", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.ExecuteWorkflow(Parent, []int{1})
		var we2 *failure.WorkflowError
		if err := we.Err(); !errors.As(err, &we2) || !strings.Contains(err.Error(), "not registered") {
			t.Fatalf("err %v", err)
		}
	})
}

func Countdown(ctx workflow.Context, n int) (string, error) {
	if n == 0 {
		return "liftoff at " + workflow.Now(ctx).Format(time.DateOnly), nil
	}
	if err := workflow.Sleep(ctx, 100*24*time.Hour); err != nil {
		return "", err
	}
	return "", workflow.NewContinueAsNewError(ctx, n-1)
}

func TestContinueAsNew(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.ExecuteWorkflow(Countdown, 3)
	var out string
	if err := we.Result(&out); err != nil || out != "liftoff at 2030-10-28" {
		t.Fatalf("result %q, %v", out, err)
	}
}

func TestWorkflowPanicIsReported(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.ExecuteWorkflow(func(ctx workflow.Context, in string) (string, error) {
		_ = workflow.Sleep(ctx, time.Hour)
		panic("bug in workflow " + in)
	}, "w")
	if err := we.Err(); err == nil || !strings.Contains(err.Error(), "bug in workflow w") {
		t.Fatalf("err %v", err)
	}
}

// BenchmarkYearLongWorkflow measures a year of monthly charges in the
// time-skipping env, its determinism check included.
func BenchmarkYearLongWorkflow(b *testing.B) {
	for b.Loop() {
		we := testenv.NewWorkflowEnv(b)
		we.RegisterActivity(ChargeMonth)
		we.ExecuteWorkflow(Subscription, Plan{Customer: "ada", Months: 12, Every: month, Cents: 999})
		if err := we.Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// QuickBatch runs three branches that finish at once, two at a time,
// until two succeeded: the third is started when the first reports and
// canceled by the second's report before it ran.
func QuickBatch(ctx workflow.Context, _ struct{}) ([]string, error) {
	branch := func(v int) func(workflow.Context) (int, error) {
		return func(workflow.Context) (int, error) { return v, nil }
	}
	res, err := workflow.Parallel(ctx, []func(workflow.Context) (int, error){branch(1), branch(2), branch(3)},
		workflow.BatchOptions{MaxConcurrency: 2, MinSuccessful: 2})
	var out []string
	for _, it := range res.Items {
		out = append(out, string(it.Status))
	}
	return append(out, res.Reason, fmt.Sprint(res.Succeeded)), err
}

// TestBatchBranchCanceledBeforeItRanIsNotStarted: a branch canceled
// before it ran did nothing, and is reported not started, not canceled
// (nor succeeded).
func TestBatchBranchCanceledBeforeItRanIsNotStarted(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.ExecuteWorkflow(QuickBatch, struct{}{})
	var got []string
	if err := we.Result(&got); err != nil {
		t.Fatal(err)
	}
	if want := "[succeeded succeeded not_started min-successful 2]"; fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}

// Cart waits on two signals and a deadline at once with a Selector: "add"
// adds to the total, "checkout" ends it; an hour without either ends it
// too. Items sent before the cart looks are drained with ReceiveAsync.
func Cart(ctx workflow.Context, _ struct{}) (string, error) {
	add := workflow.GetSignalChannel[int](ctx, "add")
	checkout := workflow.GetSignalChannel[string](ctx, "checkout")
	total := 0
	for {
		v, ok, err := add.ReceiveAsync()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		total += v
	}
	deadline := workflow.NewTimer(ctx, time.Hour)
	for {
		done, why := false, ""
		sel := workflow.NewSelector(ctx)
		workflow.AddSignal(sel, add, func(v int, err error) { total += v })
		workflow.AddSignal(sel, checkout, func(v string, err error) { done, why = true, v })
		workflow.AddFuture(sel, deadline, func(workflow.Future[struct{}]) { done, why = true, "abandoned" })
		sel.Select(ctx)
		if done {
			return fmt.Sprintf("%s %d", why, total), nil
		}
	}
}

func TestSignalChannelsInASelector(t *testing.T) {
	t.Run("checkout", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.Signal("add", 1) // before the start: buffered, drained at once
		we.SignalAt(time.Minute, "add", 2)
		we.SignalAt(2*time.Minute, "add", 3)
		we.SignalAt(3*time.Minute, "checkout", "paid")
		we.ExecuteWorkflow(Cart, struct{}{})
		var got string
		if err := we.Result(&got); err != nil || got != "paid 6" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("abandoned", func(t *testing.T) {
		we := testenv.NewWorkflowEnv(t)
		we.SignalAt(time.Minute, "add", 5)
		we.ExecuteWorkflow(Cart, struct{}{})
		var got string
		if err := we.Result(&got); err != nil || got != "abandoned 5" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}
