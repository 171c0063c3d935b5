package orchestrator

import (
	"time"

	"github.com/cairnhq/cairn/history"
)

// control is the task's second phase: it applies the control items before
// any code runs. Reset wakes whose run is not in history yet are held back
// (holdEarlyResets); messages for an instance without history are dropped;
// a closed run only has its close commands re-emitted (closedRun). For a
// live run, commands that a stopped task may not have sent go out again
// (reemitLost), reset and terminated wakes dispatch the new run's open work
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
	if !w.reemitLost(s) || !w.dispatchWakes(s) || !w.resignUnsigned(s) {
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
