package workflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

func Greet(_ context.Context, name string) (string, error) { return "hello " + name, nil }

// invalid is what the test workflows return when a call failed with
// ErrInvalidOption: the sentinel is matched inside the workflow, since an
// error crossing the run's close keeps its message, not its identity.
const invalid = "invalid option"

// GreetUnder runs Greet under the given activity options.
func GreetUnder(ctx workflow.Context, opts workflow.ActivityOptions) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, opts)
	out, err := workflow.ExecuteActivity(ctx, Greet, "ada").Get(ctx)
	if errors.Is(err, workflow.ErrInvalidOption) {
		return invalid, nil
	}
	return out, err
}

func Child(_ workflow.Context, n int) (int, error) { return n * 2, nil }

// ChildUnder runs Child under the given child options.
func ChildUnder(ctx workflow.Context, opts workflow.ChildWorkflowOptions) (int, error) {
	ctx = workflow.WithChildOptions(ctx, opts)
	out, err := workflow.ExecuteChildWorkflow(ctx, Child, 21).Get(ctx)
	if errors.Is(err, workflow.ErrInvalidOption) {
		return -1, nil
	}
	return out, err
}

// Approval waits for the "decision" signal for a day.
func Approval(ctx workflow.Context, _ struct{}) (string, error) {
	return workflow.ReceiveSignalTimeout[string](ctx, "decision", 24*time.Hour)
}

// Count receives "n" signals until one carries 0, and reports how many
// were still buffered when it started.
func Count(ctx workflow.Context, _ struct{}) (int, error) {
	if err := workflow.Sleep(ctx, time.Minute); err != nil {
		return 0, err
	}
	pending := workflow.PendingSignals(ctx, "n")
	sum := 0
	for {
		n, err := workflow.ReceiveSignal[int](ctx, "n")
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return sum*100 + pending, nil
		}
		sum += n
	}
}

func TestActivityOptionsValidatedAtUse(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.RegisterActivity(Greet)
	we.ExecuteWorkflow(GreetUnder, workflow.ActivityOptions{StartToCloseTimeout: -time.Second})
	var got string
	if err := we.Result(&got); err != nil || got != invalid {
		t.Fatalf("got %q, %v; want the future to fail with ErrInvalidOption", got, err)
	}
	if n := we.ActivityCalls("Greet"); n != 0 {
		t.Fatalf("the activity ran %d times under invalid options", n)
	}

	we = testenv.NewWorkflowEnv(t)
	we.RegisterActivity(Greet)
	we.ExecuteWorkflow(GreetUnder, workflow.ActivityOptions{StartToCloseTimeout: time.Second,
		RetryPolicy: &workflow.RetryPolicy{BackoffCoefficient: 2, MaximumAttempts: 3}})
	if err := we.Result(&got); err != nil || got != "hello ada" {
		t.Fatalf("valid options: %q, %v", got, err)
	}
}

func TestChildOptionsValidatedAtUse(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.RegisterWorkflow(Child)
	we.ExecuteWorkflow(ChildUnder, workflow.ChildWorkflowOptions{ParentClosePolicy: "orphan"})
	var got int
	if err := we.Result(&got); err != nil || got != -1 {
		t.Fatalf("got %d, %v; want the future to fail with ErrInvalidOption", got, err)
	}

	we = testenv.NewWorkflowEnv(t)
	we.RegisterWorkflow(Child)
	we.ExecuteWorkflow(ChildUnder, workflow.ChildWorkflowOptions{ParentClosePolicy: workflow.ParentCloseAbandon})
	if err := we.Result(&got); err != nil || got != 42 {
		t.Fatalf("valid options: %d, %v", got, err)
	}
}

func TestReceiveSignalTimeout(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.SignalAt(time.Hour, "decision", "approved")
	we.ExecuteWorkflow(Approval, struct{}{})
	var got string
	if err := we.Result(&got); err != nil || got != "approved" {
		t.Fatalf("signalled: %q, %v", got, err)
	}

	we = testenv.NewWorkflowEnv(t)
	we.ExecuteWorkflow(Approval, struct{}{})
	var te *failure.TimeoutError
	if err := we.Err(); !errors.As(err, &te) || te.Kind != workflow.TimeoutSignal {
		t.Fatalf("err = %v, want a %q timeout", err, workflow.TimeoutSignal)
	}
	if want := testenv.DefaultStartTime.Add(24 * time.Hour); !we.Now().Equal(want) {
		t.Fatalf("timed out at %s, want %s", we.Now(), want)
	}
}

func TestSignalsBufferedInOrder(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.Signal("n", 1)
	we.Signal("n", 2)
	we.ExecuteWorkflow(Count, struct{}{})
	we.Signal("n", 4)
	we.Signal("n", 0)
	var got int
	if err := we.Result(&got); err != nil || got != 702 {
		t.Fatalf("got %d, %v; want sum 7 with 2 pending", got, err)
	}
}

func TestMapRejectsInvalidOptions(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.ExecuteWorkflow(func(ctx workflow.Context, _ struct{}) (string, error) {
		_, err := workflow.Map(ctx, []int{1, 2}, func(workflow.Context, int) (int, error) { return 1, nil },
			workflow.BatchOptions{MaxConcurrency: -1})
		if errors.Is(err, workflow.ErrInvalidOption) {
			return invalid, nil
		}
		return "ran", err
	}, struct{}{})
	var got string
	if err := we.Result(&got); err != nil || got != invalid {
		t.Fatalf("got %q, %v; want ErrInvalidOption", got, err)
	}
}

// TestSignalOnServer sends a signal through a real server: the client's
// Signal reaches ReceiveSignal, and describe counts it.
func TestSignalOnServer(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Approval) })
	c := env.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.Start(ctx, client.StartOptions{ID: "approval-1"}, Approval, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, "approval-1", "", "decision", "approved"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "approved" {
		t.Fatalf("result %q, %v", got, err)
	}
	d, err := c.Describe(ctx, "approval-1", "")
	if err != nil || d.SignalsReceived != 1 {
		t.Fatalf("describe: %+v, %v", d, err)
	}
}
