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
func runB2(ctx context.Context, cfg *config, m mode) (metrics, error) {
	e, err := newEnv(ctx, m, registerAll)
	if err != nil {
		return nil, err
	}
	defer e.close()
	// Warm-up: consumers, connections and caches.
	if _, err := startAndWait(ctx, e, "b2w", cfg.b2Warmup, cfg.b2Pool, Sequential, 1); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	nf0 := e.notFound.Load()
	r, err := startAndWait(ctx, e, "b2", cfg.b2N, cfg.b2Pool, Sequential, 1)
	if err != nil {
		return nil, err
	}
	notFound := e.notFound.Load() - nf0
	xs := durationsMS(r.lat)
	lags, slow, err := resultLag(ctx, e, r.ids, r.done)
	if err != nil {
		return nil, err
	}
	out := metrics{
		"B2.wf_per_s":   float64(cfg.b2N) / r.wall.Seconds(),
		"B2.wall_s":     r.wall.Seconds(),
		"B2.lat_p50_ms": percentile(xs, 50),
		"B2.lat_p99_ms": percentile(xs, 99),
		"B2.lag_p50_ms": percentile(lags, 50),
		"B2.lag_p99_ms": percentile(lags, 99),
		"B2.slow_gets":  float64(slow),
	}
	if m.clustered() {
		out["B2.notfound_gets"] = float64(notFound)
	}
	return out, nil
}

// batchResult is what startAndWait observed.
type batchResult struct {
	wall time.Duration
	ids  []string
	lat  []time.Duration // start call to Get returned
	done []time.Time     // when Get returned
}

// startAndWait runs n workflows (ids prefix-0..n-1) of wf(input) from pool
// goroutines, each starting one and waiting for its result before the
// next.
func startAndWait(ctx context.Context, e *env, prefix string, n, pool int, wf, input any) (*batchResult, error) {
	r := &batchResult{ids: make([]string, n), lat: make([]time.Duration, n), done: make([]time.Time, n)}
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
				r.ids[i] = fmt.Sprintf("%s-%d", prefix, i)
				run, err := e.client.Start(ctx, client.StartOptions{ID: r.ids[i], TaskQueue: benchQueue}, wf, input)
				if err == nil {
					err = e.getResult(ctx, run, nil)
				}
				if err != nil {
					errc <- fmt.Errorf("workflow %s-%d: %w", prefix, i, err)
					return
				}
				r.done[i] = time.Now()
				r.lat[i] = r.done[i].Sub(s)
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
	r.wall = time.Since(t0)
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return r, err
}
