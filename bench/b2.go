package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
)

// runB2 measures throughput: cfg.b2N workflows of one no-op activity each,
// started concurrently by cfg.b2Pool goroutines that each start a workflow
// and wait for its result before taking the next. The figure is
// workflows / wall time from the first start to the last result.
func runB2(ctx context.Context, cfg *config, syncAlways bool) (metrics, error) {
	e, err := newEnv(ctx, syncAlways, registerAll)
	if err != nil {
		return nil, err
	}
	defer e.close()
	// Warm-up: consumers, connections and caches.
	if _, _, err := startAndWait(ctx, e.client, "b2w", cfg.b2Warmup, cfg.b2Pool, Sequential, 1); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	wall, lat, err := startAndWait(ctx, e.client, "b2", cfg.b2N, cfg.b2Pool, Sequential, 1)
	if err != nil {
		return nil, err
	}
	xs := durationsMS(lat)
	return metrics{
		"B2.wf_per_s":  float64(cfg.b2N) / wall.Seconds(),
		"B2.wall_s":    wall.Seconds(),
		"B2.lat_p50_ms": percentile(xs, 50),
		"B2.lat_p99_ms": percentile(xs, 99),
	}, nil
}

// startAndWait runs n workflows (ids prefix-0..n-1) of wf(input) from pool
// goroutines, each starting one and waiting for its result before the
// next. It returns the wall time and each workflow's start-to-result time.
func startAndWait(ctx context.Context, c *client.Client, prefix string, n, pool int, wf, input any) (time.Duration, []time.Duration, error) {
	lat := make([]time.Duration, n)
	next := make(chan int)
	errc := make(chan error, pool)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range min(pool, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s := time.Now()
				run, err := c.Start(ctx, client.StartOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: benchQueue}, wf, input)
				if err == nil {
					err = run.Get(ctx, nil)
				}
				if err != nil {
					errc <- fmt.Errorf("workflow %s-%d: %w", prefix, i, err)
					return
				}
				lat[i] = time.Since(s)
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errc:
			break feed
		}
	}
	close(next)
	wg.Wait()
	wall := time.Since(t0)
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return wall, lat, err
}
