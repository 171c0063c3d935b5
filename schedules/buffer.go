package schedules

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// watchBuffered follows the schedules bucket and, for each schedule with a
// buffered start, watches the summary of the run it waits for; when that
// run closes, drain starts the buffered one. Every runner does this; the
// compare-and-set in drain lets one of them win.
func (r *Runner) watchBuffered(ctx context.Context) {
	w, err := r.store.kv.WatchAll(ctx)
	if err != nil {
		r.log.Warn("buffered schedule starts wait for the next fire: cannot watch schedules", "error", err)
		return
	}
	defer w.Stop()
	type watch struct {
		running string
		cancel  context.CancelFunc
	}
	watching := map[string]*watch{}
	defer func() {
		for _, wt := range watching {
			wt.cancel()
		}
	}()
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case <-ctx.Done():
			return
		case e, ok = <-w.Updates():
			if !ok {
				return
			}
		}
		if e == nil {
			continue // end of the initial values
		}
		id, err := streams.UnescapeToken(e.Key())
		if err != nil {
			continue
		}
		var running string
		if e.Operation() == jetstream.KeyValuePut {
			if sch, err := decodeSchedule(e); err == nil && sch.State.Buffered != nil && !sch.Paused {
				running = sch.State.Running
			}
		}
		cur := watching[id]
		if cur != nil && cur.running == running {
			continue
		}
		if cur != nil {
			cur.cancel()
			delete(watching, id)
		}
		if running == "" {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		watching[id] = &watch{running: running, cancel: cancel}
		go r.watchRun(wctx, id, running)
	}
}

// watchRun waits for workflow wid's summary to show it closed, then drains
// schedule id's buffered start.
func (r *Runner) watchRun(ctx context.Context, id, wid string) {
	w, err := r.summaries.KV().Watch(ctx, r.names.InstanceKey(wid))
	if err != nil {
		r.log.Debug("cannot watch a scheduled run; its buffered successor waits for the next fire", "schedule_id", id, "error", err)
		return
	}
	defer w.Stop()
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case <-ctx.Done():
			return
		case e, ok = <-w.Updates():
			if !ok {
				return
			}
		}
		if e == nil || e.Operation() != jetstream.KeyValuePut {
			continue
		}
		var sum history.Summary
		if json.Unmarshal(e.Value(), &sum) != nil || sum.Status == history.StatusRunning {
			continue
		}
		if err := r.drain(ctx, id); err != nil && ctx.Err() == nil {
			r.log.Warn("buffered schedule start failed; the next fire retries it", "schedule_id", id, "error", err)
		}
	}
}

// drain starts the buffered fire time of schedule id if the run it waits
// for has closed, with the same record-then-start order as a fire.
func (r *Runner) drain(ctx context.Context, id string) error {
	for range updateAttempts {
		sch, err := r.store.Get(ctx, id)
		if err != nil {
			return nil // deleted
		}
		if sch.Paused || sch.State.Buffered == nil {
			return nil
		}
		running, err := r.heal(ctx, sch)
		if err != nil {
			return err
		}
		st := sch.State.clone()
		st.Started = nil
		t, ok := drainBuffered(sch, &st, running, time.Now().UTC())
		if !ok {
			return nil
		}
		sch.State = st
		written, err := r.store.put(ctx, sch)
		if err != nil {
			return err
		}
		if written {
			return r.start(ctx, sch, sch.WorkflowID(t))
		}
	}
	return fmt.Errorf("schedule %q: drain: too much contention", id)
}
