package orchestrator

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

// control is the task's second phase: it applies the control items before
// any code runs. Reset wakes whose run is not in history yet are held back
// (holdEarlyResets); messages for an instance without history are dropped;
// a closed run only has its close commands re-emitted (closedRun). For a
// live run, a loaded instance re-emits its last batch's commands
// (reemitLast), reset and terminated wakes dispatch the new run's open work
// or clean up the run it replaced (dispatchWakes), and what is left for the
// code are the events of the current run (inboundOf: messages for another
// run are stale). Before a freshly loaded instance drops what it cannot
// place, the stream's leader confirms the load was current (confirmDrops).
// Whatever history already reflects (a duplicate result, a
// timer already fired, a repeated pause) the executor drops.
func (w *Worker) control(s *taskState) bool {
	if s.items = w.holdEarlyResets(s.e, s.items); len(s.items) == 0 {
		return false
	}
	if !w.confirmDrops(s) {
		return false
	}
	if s.e == nil {
		// Nothing to wake: messages for an instance without history.
		ackAll(s.items)
		return false
	}
	if s.e.inst == nil {
		w.closedRun(s)
		return false
	}
	s.run = s.e.head.Run
	s.tt.bind(s.ctx, s.e.inst.Started())
	if !w.reemitLast(s) || !w.dispatchWakes(s) {
		return false
	}
	s.inbound = inboundOf(s.items, s.run)
	return true
}

// resetWakeWait is how long a reset wake waits for its run to appear: the
// wake is published before the append, and a client that died in between
// leaves a wake for a run that never comes.
const resetWakeWait = time.Minute

// itemFate is what becomes of an item before the task runs.
type itemFate int

const (
	// keepItem: the task takes it.
	keepItem itemFate = iota
	// holdItem: it goes back to the inbox for a later look.
	holdItem
	// dropItem: it is acknowledged unused.
	dropItem
)

// earlyResetFate tells what becomes of an item given the instance e (nil:
// no history): a reset wake whose run is not the head yet is held while
// its client may still be appending the run (resetWakeWait since it was
// published), and dropped after.
func earlyResetFate(it *item, e *entry, now time.Time) itemFate {
	if it.kind != kindReset || (e != nil && e.head.Run == it.run) {
		return keepItem
	}
	if now.Sub(it.published) < resetWakeWait {
		return holdItem
	}
	return dropItem
}

// holdEarlyResets returns the reset wakes whose run is not in history yet
// to the inbox for a later look, and drops them once they are too old. It
// returns the items the task keeps.
func (w *Worker) holdEarlyResets(e *entry, items []*item) []*item {
	out := items[:0]
	for _, it := range items {
		switch earlyResetFate(it, e, time.Now()) {
		case holdItem:
			_ = it.msg.NakWithDelay(200 * time.Millisecond)
		case dropItem:
			_ = it.msg.Ack()
		default:
			out = append(out, it)
		}
	}
	return out
}

// recent reports whether a batch is young enough, at now, that re-emitting
// its commands is still de-duplicated by the streams (the duplicate
// window).
func recent(b history.Batch, now time.Time) bool {
	return len(b) > 0 && now.Sub(b[0].Time) < 2*time.Minute
}

// reemitAfterLoad reports whether the commands of an instance's last batch
// are re-emitted: only after a load (cold), and only when they may not have
// gone out. A task publishes its batch's commands before it acknowledges
// its messages, so a crash in between leaves them unacknowledged: they
// come back redelivered. When the head records the inbox messages of the
// task that wrote it (Head.InboxSeq), that is exactly when one of them is
// among the task's items again; otherwise (a batch a client appended, or
// history from before the record) any redelivered message, or a batch
// young enough that the streams still de-duplicate the re-emitted
// commands, counts. Re-emitting when not needed re-runs activities whose
// tasks were already taken (a server restart forgets the duplicate window
// of tasks consumed and deleted).
func reemitAfterLoad(cold bool, items []*item, head *store.Head, last history.Batch, now time.Time) bool {
	if !cold {
		return false
	}
	if head.InboxSeq > 0 {
		for _, it := range items {
			if it.redelivered && it.seq != 0 && it.seq <= head.InboxSeq {
				return true
			}
		}
		return false
	}
	return anyRedelivered(items) || recent(last, now)
}

// anyRedelivered reports whether any item came back.
func anyRedelivered(items []*item) bool {
	for _, it := range items {
		if it.redelivered {
			return true
		}
	}
	return false
}

// maxSeq is the highest inbox stream sequence among items.
func maxSeq(items []*item) uint64 {
	var m uint64
	for _, it := range items {
		m = max(m, it.seq)
	}
	return m
}

// terminatesRun reports whether the items hold the terminated wake of run.
func terminatesRun(items []*item, run string) bool {
	for _, it := range items {
		if it.kind == kindTerminated && it.run == run {
			return true
		}
	}
	return false
}

// closedRun ends a task whose instance's run is closed. A terminate made
// by a client leaves the close's commands to the worker; after a crash
// they may not have gone out, so a loaded closed run re-emits them too.
func (w *Worker) closedRun(s *taskState) {
	terminated := terminatesRun(s.items, s.e.head.Run)
	if terminated || reemitAfterLoad(s.cold, s.items, s.e.head, s.e.last, time.Now()) {
		if err := w.reemitClose(s.ctx, s.e); err != nil {
			s.log.Warn("emitting the commands of a closed run failed; will retry", "error", err)
			s.retry(time.Second)
			return
		}
	}
	if terminated {
		w.closed(s.ctx, s.e)
	}
	ackAll(s.items)
	s.c.remove(s.id)
}

// reemittedClose is the close of a run loaded closed, whose commands are
// re-emitted: the next run of a continue-as-new, the parent-close policy,
// the notice to the parent, the retention schedule and the purge of the
// run's schedules. It reports false when the run's last batch does not
// close it.
func reemittedClose(e *entry) (closedRun, bool) {
	if e.started == nil || len(e.last) == 0 {
		return closedRun{}, false
	}
	closeEv := e.last[len(e.last)-1]
	if !closeEv.IsClose() {
		return closedRun{}, false
	}
	return closedRun{id: e.id, run: e.head.Run, head: e.head, started: e.started, closeEv: closeEv,
		open: e.openChildren, purgeSchedules: true}, true
}

// reemitClose re-publishes the commands of a closed run's last batch, for
// a run loaded cold (reemittedClose), then its summary. Each is
// idempotent.
func (w *Worker) reemitClose(ctx context.Context, e *entry) error {
	c, ok := reemittedClose(e)
	if !ok {
		return nil
	}
	if err := w.sendCommands(ctx, closeCommandsOf(w.commandConfig(), c)); err != nil {
		return err
	}
	// The summary write is a close command too (see summaryWrite).
	return w.summaries.CatchUp(ctx, e.id, e.head)
}

// reemitLast re-emits the commands of a loaded instance's last batch when
// reemitAfterLoad says so: they may not have gone out before a crash.
func (w *Worker) reemitLast(s *taskState) bool {
	if !reemitAfterLoad(s.cold, s.items, s.e.head, s.e.last, time.Now()) {
		return true
	}
	s.ctx = s.tt.start(s.ctx)
	if err := w.emit(s.ctx, s.e, s.e.last); err != nil {
		s.log.Warn("re-emitting commands failed; will retry", "run", s.run, "error", err)
		s.tt.fail(outcomeError, err)
		s.evict(time.Second)
		return false
	}
	return true
}

// wake is what a control item asks of the worker besides its event.
type wake int

const (
	noWake wake = iota
	// wakeDispatchOpen: the reset wake of the current run, whose open
	// work the copied history's commands did not send for it (emitOpen).
	wakeDispatchOpen
	// wakeCloseSuperseded: the terminated wake of a run a reset replaced
	// (closeSuperseded).
	wakeCloseSuperseded
)

// wakeOf tells what item asks of the worker when run is the current run.
func wakeOf(it *item, run string) wake {
	switch {
	case it.kind == kindReset && it.run == run:
		return wakeDispatchOpen
	case it.kind == kindTerminated && it.run != run:
		return wakeCloseSuperseded
	}
	return noWake
}

// dispatchWakes carries out what the reset and terminated wakes ask
// (wakeOf), in order.
func (w *Worker) dispatchWakes(s *taskState) bool {
	for _, it := range s.items {
		var err error
		switch wakeOf(it, s.run) {
		case wakeDispatchOpen:
			err = w.emitOpen(s.ctx, s.e)
		case wakeCloseSuperseded:
			err = w.closeSuperseded(s.ctx, s.id, it.run)
		}
		if err != nil {
			s.log.Warn("dispatching the open work of a reset run or cleaning up the run it replaced failed; will retry",
				"run", s.run, "error", err)
			s.evict(time.Second)
			return false
		}
	}
	return true
}

// inboundOf are the events the items bring to the code of run: messages
// for another run are stale and only acknowledged.
func inboundOf(items []*item, run string) []*history.Event {
	var inbound []*history.Event
	for _, it := range items {
		if it.ev != nil && it.run == run {
			inbound = append(inbound, it.ev)
		}
	}
	return inbound
}
