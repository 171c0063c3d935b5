package orchestrator

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

// task runs one workflow task for instance id over its pending messages,
// phase by phase (see the package doc's commit protocol). A phase that
// reports false has settled the task's messages (acknowledged, handed back
// or parked) and ends it.
func (w *Worker) task(ctx context.Context, c *cache, id string, msgs []jetstream.Msg) {
	s := w.beginTaskState(ctx, c, id, msgs)
	if s == nil {
		return
	}
	defer func() { s.tt.end(s.ctx) }()
	if !w.resolve(s) || !w.control(s) {
		return
	}
	// A task may take several commits: code waiting for its decisions to
	// be committed (AwaitCommitted) runs on in a follow-up execution, and
	// the inbox is acknowledged only after the last of them.
	for {
		batch, ok := w.execute(s)
		if !ok {
			return
		}
		if len(batch) > 0 && (!w.commit(s, batch) || !w.emitCommands(s, batch)) {
			return
		}
		if !s.e.inst.AwaitingCommit() || s.e.inst.Closed() != nil {
			break
		}
	}
	w.acknowledge(s)
}

// taskState is what flows between the phases of one workflow task.
type taskState struct {
	// ctx carries the task's trace (tt), and its span once started; the
	// trace ends with the last ctx.
	ctx context.Context
	tt  *taskTrace
	c   *cache
	id  string
	log *slog.Logger
	// items are the task's inbox messages, parsed; redelivered tells
	// whether any of them came back.
	items       []*item
	redelivered bool
	// e is the instance (nil: no history); cold means it was not in the
	// cache and was loaded, so its last batch's commands may not have gone
	// out. fast is the start wake resolve built e from, if any.
	e    *entry
	cold bool
	fast *item
	// run is the current run the task executes, inbound the events it
	// brings to the code (the first execution only) and taskTime the code
	// time of the last execution.
	run      string
	inbound  []*history.Event
	taskTime time.Duration
	// logged tells that log carries the task span's ids.
	logged bool
	// writes are the summary writes the acknowledgement waits for.
	writes []func(context.Context) error
}

// beginTaskState parses the task's messages and starts following the task
// for telemetry. It returns nil when no message is left.
func (w *Worker) beginTaskState(ctx context.Context, c *cache, id string, msgs []jetstream.Msg) *taskState {
	s := &taskState{c: c, id: id, log: w.log.With("workflow_id", id)}
	s.items, s.redelivered = w.parseItems(ctx, s.log, msgs)
	if s.items = w.signedOnly(ctx, s.log, id, s.items); len(s.items) == 0 {
		return nil
	}
	if s.items = w.serveRequests(ctx, s.log, c, id, s.items); len(s.items) == 0 {
		return nil
	}
	s.ctx, s.tt = w.beginTask(ctx, s.items)
	return s
}

// retry hands the task's messages back, to be redelivered after delay.
func (s *taskState) retry(delay time.Duration) {
	for _, it := range s.items {
		_ = it.msg.NakWithDelay(delay)
	}
}

// evict forgets the cached instance (it is redone from history) and hands
// the task's messages back.
func (s *taskState) evict(delay time.Duration) {
	s.c.remove(s.id)
	s.retry(delay)
}

// startSpan starts the task's span (once) and, the first time, adds its
// ids to the task's log lines.
func (s *taskState) startSpan() {
	if s.ctx = s.tt.start(s.ctx); s.tt != nil && !s.logged {
		s.logged = true
		if attrs := s.tt.logAttrs(); attrs != nil {
			s.log = s.log.With(attrs...)
		}
	}
}

// park stops an instance whose code cannot run its history: history stays
// as it is, the error goes to the summary (describe shows it), and the
// messages come back later, when fixed code may be running.
func (w *Worker) park(ctx context.Context, id string, e *entry, err error, items []*item) {
	taskTraceOf(ctx).fail(outcomeParked, err)
	// Logged once, when the worker parks the instance; its messages come
	// back every ParkRetry while the cause lasts.
	level := slog.LevelWarn
	if w.summaries.WasParked(id) {
		level = slog.LevelDebug
	}
	w.log.Log(ctx, level, "instance parked", append([]any{"workflow_id", id, "error", err}, taskTraceOf(ctx).logAttrs()...)...)
	var head *store.Head
	if e != nil {
		head = e.head
	}
	w.summaries.Park(ctx, id, head, history.FailureOf(err))
	for _, it := range items {
		_ = it.msg.NakWithDelay(w.opts.ParkRetry)
	}
}
