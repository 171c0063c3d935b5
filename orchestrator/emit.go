package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/telemetry"
	"github.com/cairnhq/cairn/timers"
)

// emitCommands is the task's emit phase: it sends the commands of the
// batch just committed and keeps the summary write the acknowledgement
// must wait for. A failure evicts the instance and redelivers the messages:
// the batch is in history, so the load that follows re-emits its commands.
func (w *Worker) emitCommands(s *taskState, batch history.Batch) bool {
	cmds := commandsOf(batch, w.runInfo(s.ctx, s.e), w.commandConfig())
	if err := w.sendCommands(s.ctx, cmds); err != nil {
		s.log.Warn("emitting commands failed; they will be re-emitted", "run", s.run, "error", err)
		s.tt.fail(outcomeError, err)
		s.evict(time.Second)
		return false
	}
	for _, c := range cmds {
		if c.kind == cmdSummary {
			if wr := w.summaryWrite(s.e, c.summary); wr != nil {
				s.writes = append(s.writes, wr)
			}
		}
	}
	return true
}

// emit derives the commands of a committed batch of a live run and sends
// them (a re-emission after a load, a start's, a reset run's open work).
func (w *Worker) emit(ctx context.Context, e *entry, batch history.Batch) error {
	return w.sendCommands(ctx, commandsOf(batch, w.runInfo(ctx, e), w.commandConfig()))
}

// armLoadedTimers arms the in-process fast path of a loaded run's open
// timers that are due within the local horizon. The worker that armed them
// may be gone (the instance's partition moved, or this worker restarted),
// and the server's schedule alone fires up to 250 ms late. The schedules
// are in place already: nothing is published.
func (w *Worker) armLoadedTimers(e *entry, batches []history.Batch) {
	var d *deriver
	for _, b := range batches {
		for _, ev := range b {
			a, ok := ev.Attributes.(*history.TimerStarted)
			if !ok || !e.inst.TimerOpen(a.ID) {
				continue
			}
			if d == nil {
				nd := newDeriver(w.runInfo(context.Background(), e), w.commandConfig())
				d = &nd
			}
			if c := d.timer(ev, a); c.timer != nil {
				if c.timerTrace != nil {
					w.rememberTimer(*c.timer, c.timerTrace)
				}
				w.local.Add(*c.timer, c.at)
			}
		}
	}
}

// runInfo is what commandsOf needs of a live run, now.
func (w *Worker) runInfo(ctx context.Context, e *entry) runInfo {
	started := e.inst.Started()
	r := runInfo{id: e.id, head: e.head, started: started, state: e.inst, now: time.Now(), traceParent: started.TraceParent}
	// Activity tasks carry the trace context of the workflow task that
	// scheduled them (or, without one, of the start).
	if telemetry.Recording(ctx) {
		r.recording = true
		r.traceParent, r.traceState = telemetry.TraceParent(ctx)
	}
	return r
}

// commandConfig is what the worker's settings bring to commandsOf.
func (w *Worker) commandConfig() commandConfig {
	return commandConfig{names: w.names, localTimerHorizon: w.opts.LocalTimerHorizon, retention: w.opts.Retention,
		telemetry: w.opts.Telemetry != nil, tokens: w.tokens}
}

// commandSet is the commands of one batch on their way: the publishes,
// whose acknowledgements are awaited together, and the purges, made once
// those are in.
type commandSet struct {
	futures []jetstream.PubAckFuture
	purges  []command
}

// sendCommands carries out commands in order and waits until every publish
// is acknowledged; a command that fails stops it (the caller redelivers the
// task and the commands are sent again).
func (w *Worker) sendCommands(ctx context.Context, cmds []command) error {
	set := &commandSet{}
	for _, c := range cmds {
		if err := w.send(ctx, set, c); err != nil {
			return err
		}
	}
	return w.await(ctx, set)
}

// send carries out one command.
func (w *Worker) send(ctx context.Context, set *commandSet, c command) error {
	if c.err != nil {
		return c.err
	}
	switch c.kind {
	case cmdWorkflowTimeout, cmdActivityTask, cmdActivityTimeout, cmdActivityRetry, cmdAttemptClosed, cmdCancelChild,
		cmdNotifyParent, cmdContinueAsNew, cmdRetention:
		if err := w.publish(set, c.msg); err != nil && !c.bestEffort {
			return err
		}
	case cmdTimer:
		return w.armTimer(set, c)
	case cmdDisarmTimer:
		w.disarmTimer(*c.timer)
	case cmdAnnounceCancel:
		_ = w.nc.Publish(c.subject, nil)
	case cmdPurge:
		set.purges = append(set.purges, c)
	case cmdStartChild:
		return w.startChild(ctx, set, c.start)
	case cmdTerminateChild:
		return w.terminateChild(ctx, c.terminate)
	case cmdSummary:
		// Written before the acknowledgement (emitCommands, ackAfter).
	}
	return nil
}

// publish publishes m asynchronously; await waits for its acknowledgement.
func (w *Worker) publish(set *commandSet, m *nats.Msg) error {
	f, err := w.js.PublishMsgAsync(m)
	if err != nil {
		return err
	}
	set.futures = append(set.futures, f)
	return nil
}

// armTimer publishes a timer's schedule and arms its in-process fast path
// when it is due soon.
func (w *Worker) armTimer(set *commandSet, c command) error {
	if c.timer != nil && c.timerTrace != nil {
		w.rememberTimer(*c.timer, c.timerTrace)
	}
	if err := w.publish(set, c.msg); err != nil {
		return err
	}
	if c.timer != nil {
		w.local.Add(*c.timer, c.at)
	}
	return nil
}

// disarmTimer drops the in-process fast path of one timer, or of every
// timer of an instance (k.Timer empty).
func (w *Worker) disarmTimer(k timers.Key) {
	if k.Timer == "" {
		w.local.RemoveInstance(k.Instance)
	} else {
		w.local.Remove(k)
	}
	w.forgetTimer(k)
}

// await blocks until every publish is acknowledged, then purges; a failed
// publish or purge is an error.
func (w *Worker) await(ctx context.Context, set *commandSet) error {
	var errs []error
	for _, f := range set.futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, p := range set.purges {
		if err := w.streamNamed(p.stream).Purge(ctx, jetstream.WithPurgeSubject(p.subject)); err != nil {
			errs = append(errs, fmt.Errorf("purge %s: %w", p.subject, err))
		}
	}
	return errors.Join(errs...)
}

// streamNamed is the stream a purge command names: the inbox (timer
// schedules) or the tasks stream (delayed retries).
func (w *Worker) streamNamed(name string) jetstream.Stream {
	if name == w.names.TasksStream() {
		return w.tasks
	}
	return w.inbox
}
