package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/streams"
)

// runCOLD measures what a worker pays for an instance it does not hold in
// memory: LongHistory runs cfg.coldN sequential activities and parks on a
// one-hour timer (2·coldN+2 events in coldN+1 history messages). The worker
// is then stopped and the instance is loaded the way the orchestrator's
// load does it: Store.Load (direct get of the head, batched direct gets of
// the run, JSON decoding), then executor.New + Replay of the workflow code.
// Both are timed separately, cfg.coldIter times, and once more after a
// server restart.
func runCOLD(ctx context.Context, cfg *config, m mode) (metrics, error) {
	e, err := newEnv(ctx, m, registerAll)
	if err != nil {
		return nil, err
	}
	defer e.close()
	names := streams.NewNames("default")
	const id = "cold-1"
	wantEvents := int64(2*cfg.coldN + 2)

	t0 := time.Now()
	if _, err := e.client.Start(ctx, client.StartOptions{ID: id, TaskQueue: benchQueue}, LongHistory, cfg.coldN); err != nil {
		return nil, err
	}
	store := store.New(e.nc, e.js, names)
	for {
		h, err := store.Head(ctx, id)
		if err != nil {
			return nil, err
		}
		if h != nil && h.LastEvent >= wantEvents {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	runTime := time.Since(t0)
	e.stopWorkerNow()

	measure := func() (load, replay time.Duration, events int, err error) {
		t := time.Now()
		head, batches, err := store.Load(ctx, id)
		if err != nil {
			return 0, 0, 0, err
		}
		load = time.Since(t)
		if head == nil || head.Status != history.StatusRunning {
			return 0, 0, 0, fmt.Errorf("%s: not running after load (head %+v)", id, head)
		}
		for _, b := range batches {
			events += len(b)
		}
		t = time.Now()
		inst := executor.New(longHistoryExec, executor.Options{DeadlockTimeout: time.Second})
		err = inst.Replay(batches)
		replay = time.Since(t)
		defer inst.Close()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("replay: %w", err)
		}
		if inst.LastSeq() != wantEvents || inst.Closed() != nil {
			return 0, 0, 0, fmt.Errorf("replay ended at event %d (closed %v), want %d open", inst.LastSeq(), inst.Closed() != nil, wantEvents)
		}
		return load, replay, events, nil
	}

	var loads, replays []float64
	events := 0
	for range cfg.coldIter {
		l, r, n, err := measure()
		if err != nil {
			return nil, err
		}
		loads, replays, events = append(loads, ms(l)), append(replays, ms(r)), n
	}
	if err := e.restartServer(ctx); err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	lr, rr, _, err := measure()
	if err != nil {
		return nil, fmt.Errorf("after restart: %w", err)
	}
	return metrics{
		"COLD.events":            float64(events),
		"COLD.run_s":             runTime.Seconds(),
		"COLD.load_ms":           median(loads),
		"COLD.replay_ms":         median(replays),
		"COLD.load_restart_ms":   ms(lr),
		"COLD.replay_restart_ms": ms(rr),
	}, nil
}

// longHistoryExec is LongHistory written directly against the executor,
// issuing the same commands the SDK issues for it (ActivityScheduled of
// "Noop" with the JSON-encoded index and default options, then a
// one-hour timer) and decoding each result as the SDK's Future.Get does.
// The SDK's adapter is internal to sdk/, so the replay is driven through
// this mirror; its only difference is the reflection call the adapter
// makes once per replay.
func longHistoryExec(x *executor.Ctx, input json.RawMessage) (json.RawMessage, error) {
	var n int
	if err := json.Unmarshal(input, &n); err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		in, _ := json.Marshal(i)
		v, err := x.ScheduleActivity("Noop", in, history.ActivityOptions{}).Get(x.Coroutine())
		if err != nil {
			return nil, err
		}
		var out int
		if raw, _ := v.(json.RawMessage); len(raw) > 0 {
			if err := json.Unmarshal(raw, &out); err != nil {
				return nil, err
			}
		}
	}
	if _, err := x.NewTimer(time.Hour, "").Get(x.Coroutine()); err != nil {
		return nil, err
	}
	return nil, nil
}
