package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
)

// runB4 starts cfg.b4N workflows that each sleep cfg.b4Sleep (starts from
// cfg.b2Pool goroutines, every run awaited as soon as it is started) and
// measures the total time from the first start to the last result, and the
// lateness of every timer: the time its TimerFired event was recorded
// minus the FireAt of its TimerStarted event, both read from history.
func runB4(ctx context.Context, cfg *config, m mode) (metrics, error) {
	e, err := newEnv(ctx, m, registerAll)
	if err != nil {
		return nil, err
	}
	defer e.close()
	// Warm-up: one short sleep end to end.
	if _, err := startAndWait(ctx, e, "b4w", 4, 4, Sleep, 10*time.Millisecond); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}

	var (
		startWG, waitWG sync.WaitGroup
		mu              sync.Mutex
		firstErr        error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	ids := make([]string, cfg.b4N)
	done := make([]time.Time, cfg.b4N)
	next := make(chan int)
	t0 := time.Now()
	var startsDone time.Duration
	for range min(cfg.b2Pool, cfg.b4N) {
		startWG.Add(1)
		go func() {
			defer startWG.Done()
			for i := range next {
				ids[i] = fmt.Sprintf("b4-%d", i)
				run, err := e.client.Start(ctx, client.StartOptions{ID: ids[i], TaskQueue: benchQueue}, Sleep, cfg.b4Sleep)
				if err != nil {
					fail(err)
					continue
				}
				waitWG.Add(1)
				go func() {
					defer waitWG.Done()
					if err := e.getResult(ctx, run, nil); err != nil {
						fail(fmt.Errorf("%s: %w", run.ID, err))
					}
					done[i] = time.Now()
				}()
			}
		}()
	}
	for i := range cfg.b4N {
		next <- i
	}
	close(next)
	startWG.Wait()
	startsDone = time.Since(t0)
	waitWG.Wait()
	total := time.Since(t0)
	if firstErr != nil {
		return nil, firstErr
	}

	late := make([]float64, 0, cfg.b4N)
	early := 0
	for _, id := range ids {
		fireAt, fired, err := timerTimes(ctx, e, id)
		if err != nil {
			return nil, err
		}
		l := fired.Sub(fireAt)
		if l < 0 {
			early++
		}
		late = append(late, ms(l))
	}
	_, slow, err := resultLag(ctx, e, ids, done)
	if err != nil {
		return nil, err
	}
	return metrics{
		"B4.slow_gets":   float64(slow),
		"B4.total_s":     total.Seconds(),
		"B4.starts_s":    startsDone.Seconds(),
		"B4.late_p50_ms": percentile(late, 50),
		"B4.late_p99_ms": percentile(late, 99),
		"B4.late_max_ms": percentile(late, 100),
		"B4.early":       float64(early),
	}, nil
}

// timerTimes reads from the history of id the due time of its timer
// (TimerStarted.FireAt) and when the fire was recorded (the TimerFired
// event's time).
func timerTimes(ctx context.Context, e *env, id string) (fireAt, fired time.Time, err error) {
	evs, err := e.client.History(ctx, id, "")
	if err != nil {
		return fireAt, fired, err
	}
	for _, ev := range evs {
		switch a := ev.Attributes.(type) {
		case *history.TimerStarted:
			fireAt = a.FireAt
		case *history.TimerFired:
			fired = ev.Time
		}
	}
	if fireAt.IsZero() || fired.IsZero() {
		return fireAt, fired, fmt.Errorf("%s: no TimerStarted/TimerFired pair in history", id)
	}
	return fireAt, fired, nil
}
