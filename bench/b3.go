package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/streams"
)

// runB3 measures one workflow that fans out cfg.b3N no-op activities at
// once and awaits them all, start to result. It runs cfg.b3Iter times per
// server (after a small warm-up) and reports the median.
func runB3(ctx context.Context, cfg *config, m mode) (metrics, error) {
	e, err := newEnv(ctx, m, registerAll)
	if err != nil {
		return nil, err
	}
	defer e.close()
	one := func(id string, n int) (time.Duration, error) {
		t0 := time.Now()
		run, err := e.client.Start(ctx, client.StartOptions{ID: id, TaskQueue: benchQueue}, FanOut, n)
		if err != nil {
			return 0, err
		}
		var sum int
		if err := e.getResult(ctx, run, &sum); err != nil {
			return 0, err
		}
		if want := n * (n - 1) / 2; sum != want {
			return 0, fmt.Errorf("fan-out of %d returned %d, want %d", n, sum, want)
		}
		return time.Since(t0), nil
	}
	if _, err := one("b3-warmup", 50); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	store := store.New(e.nc, e.js, streams.NewNames("default"))
	var xs, tasks []float64
	for i := range cfg.b3Iter {
		id := fmt.Sprintf("b3-%d", i)
		d, err := one(id, cfg.b3N)
		if err != nil {
			return nil, err
		}
		xs = append(xs, d.Seconds())
		// Workflow tasks = history messages (the client's start is one).
		_, batches, err := store.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, float64(len(batches)))
	}
	return metrics{"B3.s": median(xs), "B3.tasks": median(tasks)}, nil
}
