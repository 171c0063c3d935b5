package main

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
)

// Noop is the benchmark activity: it returns its input and does nothing
// else, so every figure measures the engine, not the work.
func Noop(_ context.Context, in int) (int, error) { return in, nil }

// Sequential runs n no-op activities one after the other (B1, B2).
func Sequential(ctx workflow.Context, n int) (int, error) {
	sum := 0
	for i := 0; i < n; i++ {
		v, err := workflow.ExecuteActivity(ctx, Noop, i).Get(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// FanOut schedules n no-op activities at once and awaits them all (B3).
func FanOut(ctx workflow.Context, n int) (int, error) {
	fs := make([]workflow.Future[int], n)
	for i := range fs {
		fs[i] = workflow.ExecuteActivity(ctx, Noop, i)
	}
	sum := 0
	for _, f := range fs {
		v, err := f.Get(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// Sleep sleeps for d on a durable timer (B4).
func Sleep(ctx workflow.Context, d time.Duration) error {
	return workflow.Sleep(ctx, d)
}

// AwaitSignal waits for the signal "go" and returns its payload plus in
// (FAILOVER).
func AwaitSignal(ctx workflow.Context, in int) (int, error) {
	v, err := workflow.ReceiveSignal[int](ctx, "go")
	return in + v, err
}

// LongHistory runs n sequential no-op activities and then sleeps for an
// hour, so it stays running with 2n+2 events in history (COLD).
func LongHistory(ctx workflow.Context, n int) error {
	for i := 0; i < n; i++ {
		if _, err := workflow.ExecuteActivity(ctx, Noop, i).Get(ctx); err != nil {
			return err
		}
	}
	return workflow.Sleep(ctx, time.Hour)
}

func registerAll(w *worker.Worker) {
	w.RegisterWorkflow(Sequential)
	w.RegisterWorkflow(FanOut)
	w.RegisterWorkflow(Sleep)
	w.RegisterWorkflow(LongHistory)
	w.RegisterWorkflow(AwaitSignal)
	w.RegisterActivity(Noop)
}
