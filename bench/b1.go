package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
)

// runB1 measures the latency of one workflow of 10 sequential no-op
// activities, start to result, with nothing else running: workflows are
// started one after the other, after a warm-up.
func runB1(ctx context.Context, cfg *config, m mode) (metrics, error) {
	e, err := newEnv(ctx, m, registerAll)
	if err != nil {
		return nil, err
	}
	defer e.close()
	var ids []string
	var done []time.Time
	one := func(i int) (time.Duration, error) {
		t0 := time.Now()
		id := fmt.Sprintf("b1-%d", i)
		run, err := e.client.Start(ctx, client.StartOptions{ID: id, TaskQueue: benchQueue}, Sequential, cfg.b1Activities)
		if err != nil {
			return 0, err
		}
		var sum int
		if err := e.getResult(ctx, run, &sum); err != nil {
			return 0, err
		}
		if i >= 0 {
			ids, done = append(ids, id), append(done, time.Now())
		}
		return time.Since(t0), nil
	}
	for i := range cfg.b1Warmup {
		if _, err := one(-1 - i); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	lat := make([]time.Duration, 0, cfg.b1N)
	for i := range cfg.b1N {
		d, err := one(i)
		if err != nil {
			return nil, err
		}
		lat = append(lat, d)
	}
	xs := durationsMS(lat)
	_, slow, err := resultLag(ctx, e, ids, done)
	if err != nil {
		return nil, err
	}
	return metrics{
		"B1.slow_gets": float64(slow),
		"B1.p50_ms":    percentile(xs, 50),
		"B1.p95_ms":    percentile(xs, 95),
		"B1.p99_ms":    percentile(xs, 99),
	}, nil
}
