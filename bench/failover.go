package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/streams"
)

// takenOver is how much later than the kill an instance must have closed
// for its partition to count as one the killed worker owned. The surviving
// worker's instances close within milliseconds; the killed one's wait for
// the takeover, seconds.
const takenOver = time.Second

// runFAILOVER measures how long the instances of a SIGKILLed worker wait.
// Two worker processes serve the queue; each round starts cfg.failoverN
// instances of AwaitSignal, waits until every start is processed, SIGKILLs
// the older process, signals every instance at once and waits for them
// all. An instance's progress time is its close as stored in history
// (server time) minus the kill. A partition whose first instance closed
// more than takenOver after the kill was the dead worker's; the round's
// failover is the close of its last instance. A new process then replaces
// the dead one, and the next round starts once the partitions are placed.
func runFAILOVER(ctx context.Context, cfg *config, m mode) (metrics, error) {
	e, err := newProcEnv(ctx, m, 2)
	if err != nil {
		return nil, err
	}
	defer e.close()
	adv, err := e.watchAdvisories()
	if err != nil {
		return nil, err
	}
	defer adv.close()
	if _, err := startAndWait(ctx, e, "fow", 20, 20, Sequential, 1); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	var lasts, pins, moved, affected, others []float64
	for k := range cfg.failoverKills {
		r, err := failoverRound(ctx, cfg, e, adv, k)
		if err != nil {
			return nil, fmt.Errorf("kill %d: %w", k+1, err)
		}
		lasts = append(lasts, r.last.Seconds())
		pins = append(pins, r.pin.Seconds())
		moved = append(moved, float64(r.partitions))
		affected = append(affected, float64(r.affected))
		others = append(others, r.others...)
		if err := e.addProc(ctx); err != nil {
			return nil, err
		}
		if err := e.settle(ctx); err != nil {
			return nil, err
		}
	}
	return metrics{
		"FAILOVER.last_med_s":    median(lasts),
		"FAILOVER.last_max_s":    slices.Max(lasts),
		"FAILOVER.pin_med_s":     median(pins),
		"FAILOVER.partitions":    median(moved),
		"FAILOVER.affected":      median(affected),
		"FAILOVER.others_p99_ms": percentile(others, 99),
	}, nil
}

type failoverResult struct {
	last       time.Duration // kill → close of the last instance of a taken-over partition
	pin        time.Duration // kill → last partition pinned anew
	partitions int           // partitions taken over
	affected   int           // their instances
	others     []float64     // kill → close of the other instances, ms
}

func failoverRound(ctx context.Context, cfg *config, e *env, adv *advisories, k int) (*failoverResult, error) {
	n := cfg.failoverN
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("fo%d-%d", k, i)
	}
	runs := make([]*client.WorkflowRun, n)
	if err := parallel(ctx, n, cfg.b2Pool, func(i int) error {
		var err error
		runs[i], err = e.client.Start(ctx, client.StartOptions{ID: ids[i], TaskQueue: benchQueue}, AwaitSignal, i)
		return err
	}); err != nil {
		return nil, err
	}
	if _, err := e.quiet(ctx); err != nil {
		return nil, err
	}

	tKill := e.killOldest()
	if err := parallel(ctx, n, cfg.b2Pool, func(i int) error {
		return e.client.Signal(ctx, ids[i], runs[i].Run, "go", i)
	}); err != nil {
		return nil, err
	}
	if err := parallel(ctx, n, n, func(i int) error {
		var v int
		if err := e.getResult(ctx, runs[i], &v); err != nil {
			return err
		}
		if v != 2*i {
			return fmt.Errorf("%s returned %d, want %d", ids[i], v, 2*i)
		}
		return nil
	}); err != nil {
		return nil, err
	}

	names := streams.NewNames("default")
	delay := make([]time.Duration, n)
	first := map[int]time.Duration{} // partition → earliest close after the kill
	for i, id := range ids {
		m, err := streams.LastMsg(ctx, e.nc, names.HistoryStream(), names.HistorySubject(id))
		if err != nil {
			return nil, err
		}
		delay[i] = m.Time.Sub(tKill)
		p := streams.InboxPartition(id, streams.DefaultPartitions)
		if d, ok := first[p]; !ok || delay[i] < d {
			first[p] = delay[i]
		}
	}
	r := &failoverResult{}
	for _, d := range first {
		if d > takenOver {
			r.partitions++
		}
	}
	for i, id := range ids {
		if first[streams.InboxPartition(id, streams.DefaultPartitions)] > takenOver {
			r.affected++
			r.last = max(r.last, delay[i])
		} else {
			r.others = append(r.others, ms(delay[i]))
		}
	}
	if last, _ := adv.pinsSince(tKill); !last.IsZero() {
		r.pin = last.Sub(tKill)
	}
	return r, nil
}

// parallel runs f(0..n-1) from pool goroutines and returns the first error.
func parallel(ctx context.Context, n, pool int, f func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(pool, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
