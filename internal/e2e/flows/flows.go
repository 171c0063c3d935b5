// Package flows holds workflows shared by the end-to-end tests and the
// worker program they run as a separate OS process.
package flows

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/workflow"
)

// Steps runs five recorded steps with a short sleep in the middle.
func Steps(ctx workflow.Context, id string) (int, error) {
	done := 0
	for i := range 5 {
		if i == 2 {
			if err := workflow.Sleep(ctx, 300*time.Millisecond); err != nil {
				return 0, err
			}
		}
		if _, err := workflow.ExecuteActivityByName[string](ctx, "Record", fmt.Sprintf("%s/%d", id, i)).Get(ctx); err != nil {
			return 0, err
		}
		done++
	}
	return done, nil
}

// Recorder appends one line per activity execution to a file shared by
// every worker process, so a test can count executions across crashes.
type Recorder struct{ Path string }

// Record is the activity.
func (r Recorder) Record(ctx context.Context, key string) (string, error) {
	f, err := os.OpenFile(r.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(key + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	time.Sleep(time.Duration(2+rand.IntN(8)) * time.Millisecond)
	return key, err
}

// Scaled is the workload of the scale-out tests: five recorded steps, a
// durable timer and a signal ("bonus", an int added to the result), so
// every kind of inbox message reaches an instance that several workers may
// hold in turn.
func Scaled(ctx workflow.Context, id string) (int, error) {
	done := 0
	for i := range 5 {
		if _, err := workflow.ExecuteActivityByName[string](ctx, "Record", fmt.Sprintf("%s/%d", id, i)).Get(ctx); err != nil {
			return 0, err
		}
		done++
		if i == 2 {
			if err := workflow.Sleep(ctx, 100*time.Millisecond); err != nil {
				return 0, err
			}
		}
	}
	bonus, err := workflow.ReceiveSignal[int](ctx, "bonus")
	if err != nil {
		return 0, err
	}
	return done + bonus, nil
}

// Hang is an activity whose first attempt never ends by itself: it
// heartbeats until its context ends, so that its worker can be killed in
// the middle of it. Later attempts return at once. Every execution is
// recorded as <key>/attempt-<n>.
func (r Recorder) Hang(ctx context.Context, key string) (string, error) {
	attempt := activity.GetInfo(ctx).Attempt
	if _, err := r.Record(ctx, fmt.Sprintf("%s/attempt-%d", key, attempt)); err != nil {
		return "", err
	}
	if attempt > 1 {
		return fmt.Sprintf("attempt %d", attempt), nil
	}
	for {
		if err := activity.RecordHeartbeat(ctx); err != nil {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
