package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
)

// runTIMERKILL measures timer lateness when the worker that armed the
// timers dies. Two worker processes serve the queue; cfg.tkN workflows
// sleep cfg.tkSleep and (unless 0) cfg.tkN more sleep cfg.tkSleepLong.
// Once every start is processed (the timers are armed: TimerStarted is in
// history and the durable schedule stored) the older process is SIGKILLed,
// before any timer is due. Its in-process timers die with it; its timers
// are fired by the server's schedules into the inbox, where they wait for
// the surviving worker to take the dead one's partitions over.
//
// The short sleep is due before that takeover (its lateness is about the
// takeover time minus the sleep), the long one after it (its lateness is
// that of the durable schedule alone: the new owner never armed an
// in-process timer for it). Lateness is TimerFired's time − FireAt, read
// from every history, as in B4; the surviving worker's own timers are in
// the same figures, on time.
func runTIMERKILL(ctx context.Context, cfg *config, m mode) (metrics, error) {
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
	if _, err := startAndWait(ctx, e, "tkw", 4, 4, Sleep, 10*time.Millisecond); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}

	type group struct {
		name  string
		sleep time.Duration
	}
	groups := []group{{"short", cfg.tkSleep}}
	if cfg.tkSleepLong > 0 {
		groups = append(groups, group{"long", cfg.tkSleepLong})
	}
	n := cfg.tkN * len(groups)
	ids := make([]string, n)
	runs := make([]*client.WorkflowRun, n)
	if err := parallel(ctx, n, cfg.b2Pool, func(i int) error {
		g := groups[i/cfg.tkN]
		ids[i] = fmt.Sprintf("tk-%s-%d", g.name, i%cfg.tkN)
		var err error
		runs[i], err = e.client.Start(ctx, client.StartOptions{ID: ids[i], TaskQueue: benchQueue}, Sleep, g.sleep)
		return err
	}); err != nil {
		return nil, err
	}
	if _, err := e.quiet(ctx); err != nil {
		return nil, err
	}
	tKill := e.killOldest()
	if err := parallel(ctx, n, n, func(i int) error { return e.getResult(ctx, runs[i], nil) }); err != nil {
		return nil, err
	}

	out := metrics{}
	dueBefore := 0
	for gi, g := range groups {
		late := make([]float64, 0, cfg.tkN)
		waited := 0
		for _, id := range ids[gi*cfg.tkN : (gi+1)*cfg.tkN] {
			fireAt, fired, err := timerTimes(ctx, e, id)
			if err != nil {
				return nil, err
			}
			if fireAt.Before(tKill) {
				dueBefore++
			}
			l := fired.Sub(fireAt)
			if l > takenOver {
				waited++
			}
			late = append(late, ms(l))
		}
		k := "TIMERKILL." + g.name + "."
		out[k+"late_p50_ms"] = percentile(late, 50)
		out[k+"late_p99_ms"] = percentile(late, 99)
		out[k+"late_max_ms"] = percentile(late, 100)
		out[k+"waited"] = float64(waited)
	}
	out["TIMERKILL.due_before_kill"] = float64(dueBefore)
	if last, moved := adv.pinsSince(tKill); !last.IsZero() {
		out["TIMERKILL.pin_s"] = last.Sub(tKill).Seconds()
		out["TIMERKILL.partitions"] = float64(moved)
	}
	return out, nil
}
