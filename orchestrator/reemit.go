package orchestrator

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
)

// A task publishes the commands of the batch it appended before it
// acknowledges its messages. A task that stops in between (its process
// dies, or the publish fails and the messages are handed back) leaves
// commands that may never have gone out, and messages that come back
// redelivered: that redelivery is what tells a worker to send them again.
//
// The worker that meets it may hold a copy of the instance that does not
// know what was sent: any copy loaded from history (entry.unsure). It is
// not always the load that meets it: a second copy of the same wake (a
// timer's fire from the server and from the in-process fast path, a late
// attempt timeout) may load the instance first and find nothing to do, and
// other messages may even append new batches before the redelivered one
// comes back. So the copy remembers the highest inbox sequence any batch of
// the run consumed (entry.consumed); a redelivered message at or below it
// makes the worker read the run again and re-send the commands of every
// batch from the first that consumed it (Head.BatchInboxSeqs), as far as
// they still apply: an activity, timer or child closed since is not
// dispatched again.
//
// Re-emitting when not needed would re-run activities whose tasks were
// already taken (the tasks stream's duplicate window forgets consumed,
// deleted tasks when the server restarts), so a copy that has re-emitted,
// or that this worker built and emitted itself, does not do it again.

// reemitFrom reports whether a task re-emits commands of its instance's
// history, and from which inbox sequence: the lowest redelivered message
// that a batch of the run consumed. From 0 means the last batch alone: a
// batch a client appended (no Cairn-Inbox-Seq) is re-emitted when the task
// holds any redelivered message or the batch is young enough that the
// streams still de-duplicate its commands.
func reemitFrom(e *entry, items []*item, now time.Time) (from uint64, ok bool) {
	if !e.unsure {
		return 0, false
	}
	for _, it := range items {
		if it.redelivered && it.seq != 0 && it.seq <= e.consumed && (from == 0 || it.seq < from) {
			from = it.seq
		}
	}
	if from > 0 {
		return from, true
	}
	if e.head.InboxSeq == 0 && (anyRedelivered(items) || recent(e.last, now)) {
		return 0, true
	}
	return 0, false
}

// recent reports whether a batch is young enough, at now, that re-emitting
// its commands is still de-duplicated by the streams (the duplicate
// window).
func recent(b history.Batch, now time.Time) bool {
	return len(b) > 0 && now.Sub(b[0].Time) < 2*time.Minute
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

// reemitLost re-emits the commands of a live run that a stopped task may
// not have sent (reemitFrom). A failure hands the messages back: they come
// back redelivered and the worker tries again.
func (w *Worker) reemitLost(s *taskState) bool {
	from, ok := reemitFrom(s.e, s.items, time.Now())
	if !ok {
		return true
	}
	s.ctx = s.tt.start(s.ctx)
	if err := w.reemit(s.ctx, s.e, from); err != nil {
		s.log.Warn("re-emitting commands failed; will retry", "run", s.run, "error", err)
		s.tt.fail(outcomeError, err)
		s.evict(time.Second)
		return false
	}
	s.e.unsure = false
	return true
}

// reemit sends again the commands of the last batch (from 0) or of every
// batch from the first that consumed inbox sequence from, as far as they
// still apply to the run as it is now.
func (w *Worker) reemit(ctx context.Context, e *entry, from uint64) error {
	batches := []history.Batch{e.last}
	if from > 0 {
		head, all, err := w.store.Load(ctx, e.id)
		if err != nil {
			return err
		}
		if head == nil || head.Seq != e.head.Seq {
			// Another worker moved the instance on: this copy is stale,
			// and the load that follows the eviction decides afresh.
			return fmt.Errorf("re-emit commands of %q: history moved on from stream sequence %d", e.id, e.head.Seq)
		}
		batches = batchesFrom(all, head.BatchInboxSeqs, from)
	}
	run := w.runInfo(ctx, e)
	var cmds []command
	for _, b := range batches {
		cmds = append(cmds, commandsOf(stillOpen(b, e.inst), run, w.commandConfig())...)
	}
	return w.sendCommands(ctx, cmds)
}

// batchesFrom is the suffix of a run's batches that starts at the first
// one whose task consumed an inbox message at or after from (seqs holds
// each batch's Cairn-Inbox-Seq). Without one, it is the last batch.
func batchesFrom(batches []history.Batch, seqs []uint64, from uint64) []history.Batch {
	if len(batches) == 0 {
		return nil
	}
	for i, seq := range seqs {
		if seq >= from && i < len(batches) {
			return batches[i:]
		}
	}
	return batches[len(batches)-1:]
}

// stillOpen drops from a batch the events that would dispatch work the run
// has closed since: an activity's task or retry, a timer, a child's start.
// The rest (purges, cancellations, the close) is idempotent.
func stillOpen(b history.Batch, inst *executor.Instance) history.Batch {
	out := make(history.Batch, 0, len(b))
	for _, ev := range b {
		switch a := ev.Attributes.(type) {
		case *history.ActivityScheduled:
			if !inst.ActivityOpen(a.ID) {
				continue
			}
		case *history.ActivityRetrying:
			if !inst.ActivityOpen(a.ID) {
				continue
			}
		case *history.TimerStarted:
			if !inst.TimerOpen(a.ID) {
				continue
			}
		case *history.ChildWorkflowScheduled:
			if !inst.ChildOpen(a.ID) {
				continue
			}
		}
		out = append(out, ev)
	}
	return out
}

// closedRun ends a task whose instance's run is closed. A terminate made
// by a client leaves the close's commands to the worker; after a crash
// they may not have gone out, so a loaded closed run re-emits them too.
func (w *Worker) closedRun(s *taskState) {
	terminated := terminatesRun(s.items, s.e.head.Run)
	_, lost := reemitFrom(s.e, s.items, time.Now())
	if terminated || lost {
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
// a run loaded closed (reemittedClose), then its summary. Each is
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
