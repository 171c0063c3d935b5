package orchestrator

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
)

// resolve is the task's first phase: it finds the instance the task runs.
// A terminated or reset wake makes the cached copy stale, and so does a
// break in the worker's hold on the instance's partition (fresh) or a
// message the copy cannot place while history has moved on (copyIsCurrent);
// otherwise a cache hit is used as is. On a miss a start wake may build the instance without
// reading history (startFromWake), or history is loaded and replayed
// (loadInstance). A redelivered task then brings the summary up to date,
// and start wakes complete the starts their clients may have left
// unfinished (completeStarts).
func (w *Worker) resolve(s *taskState) bool {
	if slices.ContainsFunc(s.items, evictsCopy) {
		// A client closed the run behind our back: our copy is stale.
		s.c.remove(s.id)
	}
	s.e = s.c.get(s.id)
	if s.e != nil && (!w.fresh(s.e) || !w.copyIsCurrent(s)) {
		s.c.remove(s.id)
		s.e = nil
	}
	s.cold = s.e == nil
	s.tt.lookup(s.cold)
	if s.cold {
		w.startFromWake(s)
	}
	if s.cold && !w.loadInstance(s) {
		return false
	}
	return w.catchUpSummary(s) && w.completeStarts(s)
}

// evictsCopy reports whether an item tells that a client closed the run
// behind the worker's back (terminate, reset), so a cached copy is stale.
func evictsCopy(it *item) bool { return it.kind == kindTerminated || it.kind == kindReset }

// firstStart is the task's first start wake, or nil.
func firstStart(items []*item) *item {
	for _, it := range items {
		if it.kind == kindStart {
			return it
		}
	}
	return nil
}

// startFromWake builds a new run's instance from its start wake: the wake
// holds the whole history, so the conditional append alone tells whether
// it is current, without reading history back (fastStart).
func (w *Worker) startFromWake(s *taskState) {
	it := firstStart(s.items)
	if it == nil {
		return
	}
	if e := w.fastStart(s.ctx, s.c, s.id, it); e != nil {
		s.e, s.cold, s.fast = e, false, it
	}
}

// loadInstance loads and replays the instance. Code that cannot replay its
// history parks it; any other failure hands the messages back.
func (w *Worker) loadInstance(s *taskState) bool {
	var err error
	if s.e, err = w.load(s.ctx, s.c, s.id); err == nil {
		return true
	}
	var nde *executor.NonDeterminismError
	var tpe *executor.TaskPanicError
	var ute *UnregisteredTypeError
	// A history message the engine did not write is never acted on: the
	// instance waits, parked, for an operator (describe shows the message).
	if errors.As(err, &nde) || errors.As(err, &tpe) || errors.As(err, &ute) || errors.Is(err, store.ErrCorruptHistory) {
		w.park(s.ctx, s.id, s.e, err, s.items)
		return false
	}
	s.log.Warn("load failed; will retry", "error", err)
	s.retry(time.Second)
	return false
}

// catchUpSummary brings the summary of a live run up to date when the task
// holds redelivered messages: they come back when a park, a crash or a
// failed summary write stopped their task (and the catch-up learns of a
// park to clear). Until that works the messages stay unacknowledged, or the
// write would be lost for good.
func (w *Worker) catchUpSummary(s *taskState) bool {
	if s.e == nil || s.e.inst == nil || !s.redelivered {
		return true
	}
	if err := w.summaries.CatchUp(s.ctx, s.id, s.e.head); err != nil {
		s.log.Warn("catching the summary up failed; will retry", "error", err)
		s.evict(time.Second)
		return false
	}
	return true
}

// completeStarts completes, for every start wake but the one the instance
// was built from, a start whose client may have died between publishing
// the wake and appending the start batch.
func (w *Worker) completeStarts(s *taskState) bool {
	for _, it := range s.items {
		if it.kind != kindStart || it == s.fast {
			continue
		}
		e, err := w.completeStart(s.ctx, s.c, s.id, s.e, it)
		var ute *UnregisteredTypeError
		if errors.As(err, &ute) {
			w.park(s.ctx, s.id, s.e, err, s.items)
			return false
		}
		if err != nil {
			s.log.Warn("start failed; will retry", "run", it.run, "error", err)
			s.evict(100 * time.Millisecond)
			return false
		}
		if e != s.e {
			s.e, s.cold = e, false
		}
	}
	return true
}

// newInstance prepares an executor instance with the worker's settings.
func (w *Worker) newInstance(fn executor.WorkflowFunc) *executor.Instance {
	return executor.New(fn, executor.Options{Logger: w.opts.Logger, DeadlockTimeout: w.opts.DeadlockTimeout,
		MaxHistoryEvents: w.opts.MaxHistoryEvents})
}

// load reads an instance's current run and replays it, and caches it in c
// unless c is nil. It returns nil for an instance without history.
func (w *Worker) load(ctx context.Context, c *cache, id string) (*entry, error) {
	head, batches, err := w.store.Load(ctx, id)
	if err != nil || head == nil {
		return nil, err
	}
	e := &entry{id: id, head: head, unsure: true, consumed: slices.Max(append([]uint64{0}, head.BatchInboxSeqs...))}
	if len(batches) > 0 {
		e.last = batches[len(batches)-1]
		e.started, _ = batches[0][0].Attributes.(*history.WorkflowStarted)
	}
	if head.Status != history.StatusRunning {
		e.openChildren = history.OpenItems(batches).Children
		return e, nil
	}
	fn, ok := w.workflows[head.WorkflowType]
	if !ok {
		return e, &UnregisteredTypeError{WorkflowID: id, Run: head.Run, WorkflowType: head.WorkflowType, Queue: w.queue} // the head describes the parked run
	}
	inst := w.newInstance(fn)
	if err := inst.Replay(batches); err != nil {
		taskTraceOf(ctx).bind(ctx, inst.Started())
		inst.Close()
		return e, err // the head lets the caller describe the parked run
	}
	e.inst = inst
	if c != nil {
		c.put(e)
		w.armLoadedTimers(e, batches)
	}
	return e, nil
}

// completeStart makes the client's conditional start append if it has not
// happened yet. It returns the entry of the instance afterwards.
func (w *Worker) completeStart(ctx context.Context, c *cache, id string, e *entry, it *item) (*entry, error) {
	ws := it.start[0].Attributes.(*history.WorkflowStarted)
	if e != nil && e.head.Run == it.run {
		// Already started (by the client's own append, usually).
		w.startReported(ctx, ws, it.start[0].Time, e.head)
		return e, nil
	}
	var prev *store.Head
	if e != nil {
		prev = e.head
	}
	if (prev == nil && it.expectedSeq != 0) || (prev != nil && prev.Seq != it.expectedSeq) {
		return e, nil // the client's precondition no longer holds: stale start
	}
	head, err := w.store.Append(ctx, store.AppendRequest{WorkflowID: id, Prev: prev, NewRun: prev != nil, Run: it.run,
		Type: ws.WorkflowType, Queue: ws.TaskQueue, Status: history.StatusRunning, Batch: it.start})
	if errors.Is(err, store.ErrConflict) {
		return w.startRaced(ctx, c, id, it)
	}
	if err != nil {
		return nil, err
	}
	fn, ok := w.workflows[ws.WorkflowType]
	if !ok {
		return nil, &UnregisteredTypeError{WorkflowID: id, Run: it.run, WorkflowType: ws.WorkflowType, Queue: w.queue}
	}
	inst := w.newInstance(fn)
	if err := inst.Replay([]history.Batch{it.start}); err != nil {
		inst.Close()
		return nil, err
	}
	ne := &entry{id: id, head: head, inst: inst, last: it.start}
	c.put(ne)
	// The start batch's commands (its execution timeout) go out with the
	// run's first task.
	if err := w.emit(ctx, ne, it.start); err != nil {
		return nil, err
	}
	w.startReported(ctx, ws, it.start[0].Time, head)
	return ne, nil
}

// startRaced follows a start append that conflicted: usually the client's
// own append landed first. If the run is ours, its start commands still
// have to go out.
func (w *Worker) startRaced(ctx context.Context, c *cache, id string, it *item) (*entry, error) {
	c.remove(id)
	e, err := w.load(ctx, c, id)
	if err != nil || e == nil || e.inst == nil || e.head.Run != it.run {
		return e, err
	}
	if err := w.emit(ctx, e, it.start); err != nil {
		return nil, err
	}
	w.startReported(ctx, it.start[0].Attributes.(*history.WorkflowStarted), it.start[0].Time, e.head)
	return e, nil
}

// fastStart makes the start wake's conditional append (a duplicate of the
// client's, usually) and, if the run it starts is the instance's current
// one, returns it built from the wake. It returns nil when history must be
// read instead.
func (w *Worker) fastStart(ctx context.Context, c *cache, id string, it *item) *entry {
	ws := it.start[0].Attributes.(*history.WorkflowStarted)
	fn, ok := w.workflows[ws.WorkflowType]
	if !ok {
		return nil
	}
	var prev *store.Head
	if it.expectedSeq != 0 {
		prev = &store.Head{Seq: it.expectedSeq}
	}
	head, err := w.store.Append(ctx, store.AppendRequest{WorkflowID: id, Prev: prev, NewRun: prev != nil, Run: it.run,
		Type: ws.WorkflowType, Queue: ws.TaskQueue, Status: history.StatusRunning, Batch: it.start})
	if errors.Is(err, store.ErrConflict) {
		// The expected-sequence check comes before de-duplication, so
		// the client's own append of this very batch shows as a
		// conflict: the head tells.
		head, err = w.store.Head(ctx, id)
		if err != nil || head == nil || head.Run != it.run || head.LastEvent != it.start[len(it.start)-1].Seq {
			return nil
		}
	} else if err != nil {
		return nil
	}
	inst := w.newInstance(fn)
	if err := inst.Replay([]history.Batch{it.start}); err != nil {
		inst.Close()
		return nil
	}
	e := &entry{id: id, head: head, inst: inst, last: it.start}
	if err := w.emit(ctx, e, it.start); err != nil {
		inst.Close()
		return nil
	}
	c.put(e)
	w.startReported(ctx, ws, it.start[0].Time, head)
	return e
}

// startReported reports a run the worker saw started: its summary and
// lifecycle event, and its count.
func (w *Worker) startReported(ctx context.Context, ws *history.WorkflowStarted, at time.Time, head *store.Head) {
	w.reportStarted(ws, at, head)
	w.started(ctx, ws)
}
