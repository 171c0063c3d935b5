// Package transitive checks that the analyzer follows workflow code
// through the functions of the package it calls.
package transitive

import (
	"context"
	"math/rand"
	"os"
	"time"

	"github.com/cairnhq/cairn/sdk/workflow"
)

func Workflow(ctx workflow.Context) error {
	stamp()
	var s state
	s.load()
	_ = pick[int](nil)
	_ = workflow.Await(ctx, s.ready)        // a method value runs in workflow code too
	_, _ = Fetch(context.Background(), "x") // called inline: it is workflow code
	_, err := workflow.ExecuteActivity(ctx, Activity, "x").Get(ctx)
	return err
}

// Second reaches stamp too: the report names the first workflow only.
func Second(ctx workflow.Context) {
	stamp()
}

func stamp() {
	_ = deeper()
}

func deeper() int64 {
	return time.Now().Unix() // want `time\.Now in workflow Workflow \(via stamp -> deeper\): the clock differs on replay`
}

type state struct{ m map[string]int }

func (s *state) load() {
	for range s.m { // want `range over a map in workflow Workflow \(via state\.load\)`
	}
}

func (s *state) ready() bool {
	return time.Since(time.Time{}) > 0 // want `time\.Since in workflow Workflow \(via state\.ready\)`
}

func pick[T any](xs []T) T {
	return xs[rand.Intn(len(xs))] // want `math/rand\.Intn in workflow Workflow \(via pick\)`
}

// Fetch has the shape of an activity, but Workflow calls it directly.
func Fetch(ctx context.Context, name string) (string, error) {
	b, err := os.ReadFile(name) // want `os\.ReadFile in workflow Workflow \(via Fetch\)`
	return string(b), err
}

// Activity is only passed to workflow.ExecuteActivity: it runs as an
// activity and is not checked.
func Activity(ctx context.Context, name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
