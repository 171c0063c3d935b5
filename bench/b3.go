package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
)

// runB3 measures one workflow that fans out cfg.b3N no-op activities at
// once and awaits them all, start to result. It runs cfg.b3Iter times per
// server (after a small warm-up) and reports the median.
func runB3(ctx context.Context, cfg *config, syncAlways bool) (metrics, error) {
	e, err := newEnv(ctx, syncAlways, registerAll)
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
		if err := run.Get(ctx, &sum); err != nil {
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
	var xs []float64
	for i := range cfg.b3Iter {
		d, err := one(fmt.Sprintf("b3-%d", i), cfg.b3N)
		if err != nil {
			return nil, err
		}
		xs = append(xs, d.Seconds())
	}
	return metrics{"B3.s": median(xs)}, nil
}
