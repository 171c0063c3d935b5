package orchestrator

import (
	"time"

	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
)

// A worker's cached copy of an instance may be behind history: another
// worker may have committed since (two workers on one queue, a partition
// handed over). A message the copy places (executor.Applies) is safe: if
// the copy is stale, the commit's conditional append fails and the task is
// redone from history. A message the copy proves a duplicate is safe to
// drop: history is append-only. A message the copy cannot place is the
// danger: dropping it from a stale copy appends nothing, so no conflict
// ever shows the copy was stale, and the message is lost. Such a message
// makes the worker check the copy against the head of history, as the
// stream's leader has it (a replica may be behind), before anything is
// dropped: a cached copy first (copyIsCurrent), and a freshly loaded one
// too, since its load may have been answered by a replica (confirmDrops).

// unplaced reports whether e (nil: no history) cannot place an event the
// items bring: one for another run, or one the run cannot place.
func unplaced(e *entry, items []*item) bool {
	for _, it := range items {
		if it.ev == nil {
			continue
		}
		if e == nil || it.run != e.head.Run {
			return true
		}
		if e.inst != nil && e.inst.Place(it.ev) == executor.Unplaced {
			return true
		}
	}
	return false
}

// copyIsCurrent reports whether the cached copy s.e may serve the task: it
// may unless the task brings an event the copy cannot place and history
// has moved on since the copy's head. A failed read counts as stale (the
// load that follows retries).
func (w *Worker) copyIsCurrent(s *taskState) bool {
	if !unplaced(s.e, s.items) {
		return true
	}
	current, err := w.store.IsHead(s.ctx, s.id, s.e.head)
	if !current || err != nil {
		s.log.Debug("cached copy is behind history; reloading", "cached_seq", s.e.head.Seq, "error", err)
		return false
	}
	return true
}

// confirmDrops makes sure that a task about to drop events it cannot place
// read history as it is: the instance was just loaded, and a load may be
// answered by a replica behind the stream's leader. When the leader has a
// newer head the task's messages come back shortly, to a fresh load.
func (w *Worker) confirmDrops(s *taskState) bool {
	if !s.cold || !unplaced(s.e, s.items) {
		return true
	}
	var head *store.Head
	if s.e != nil {
		head = s.e.head
	}
	ok, err := w.store.IsHead(s.ctx, s.id, head)
	if err == nil && ok {
		return true
	}
	if err != nil {
		s.log.Warn("confirming the history head failed; will retry", "error", err)
	} else {
		s.log.Debug("history moved on during the load; reloading")
	}
	s.evict(100 * time.Millisecond)
	return false
}
