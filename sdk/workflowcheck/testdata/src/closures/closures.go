// Package closures checks function literals: inside workflow functions,
// as workflow functions of their own, and the recorded ones.
package closures

import (
	"context"
	"math/rand"
	"os"
	"time"

	"github.com/cairnhq/cairn/sdk/workflow"
)

func Workflow(ctx workflow.Context, m map[string]int) (int, error) {
	sum := func() int {
		n := 0
		for _, v := range m { // want `range over a map in workflow Workflow: its iteration order`
			n += v
		}
		return n
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		time.Sleep(time.Second) // want `time\.Sleep in workflow Workflow: .*workflow\.Sleep\(ctx, d\)`
	})
	defer func() {
		go cleanup() // want `go statement in workflow Workflow`
	}()

	// Recorded: their outcome is in history, so they may do anything.
	host, err := workflow.Step(ctx, "host", func() (string, error) { return os.Hostname() })
	if err != nil {
		return 0, err
	}
	seed := workflow.SideEffect(ctx, func() int64 { return time.Now().UnixNano() })
	_, _ = workflow.SideEffect(ctx, readConfig), host
	_, err = workflow.WaitForCallback[string](ctx, "approve", func(token string) error {
		return os.WriteFile("token", []byte(token), 0o600)
	}, workflow.CallbackOptions{})
	// An activity literal runs as an activity.
	_, err = workflow.ExecuteActivity(ctx, func(ctx context.Context, n int) (int, error) {
		return rand.Intn(n), nil
	}, 10).Get(ctx)
	return sum() + int(seed), err
}

func cleanup() {}

// readConfig is recorded by SideEffect wherever it is passed.
func readConfig() string { return os.Getenv("CONFIG") }

// Register registers workflows as literals: each literal is a workflow
// function of its own, though Register is not.
func Register(register func(any)) {
	register(func(ctx workflow.Context, in string) (string, error) {
		_ = rand.Int() // want `math/rand\.Int in workflow func literal at closures\.go:54`
		inner := func(ctx workflow.Context) {
			_ = time.Now() // want `time\.Now in workflow func literal at closures\.go:54`
		}
		inner(ctx)
		return in, nil
	})
	_ = time.Now() // Register itself is not workflow code
}
