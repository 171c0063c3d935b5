package orchestrator

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/history"
)

// emitOpen dispatches what a run made by reset or redrive has open at its
// cut: the copied history's commands went out for the old run, not this
// one. Activities go out again (at the attempt due), timers are armed
// again (a due one fires at once), and the execution timeout is set.
func (w *Worker) emitOpen(ctx context.Context, e *entry) error {
	_, batches, err := w.store.LoadRun(ctx, e.id, e.head.Run)
	if err != nil {
		return err
	}
	if len(batches) == 0 {
		return nil
	}
	return w.emit(ctx, e, openWorkBatch(batches, time.Now().UTC()))
}

// openWorkBatch is a batch whose commands dispatch what a run's history
// leaves open, at now: its start (the execution timeout), an activity's due
// attempt, its timers.
func openWorkBatch(batches []history.Batch, now time.Time) history.Batch {
	open := history.OpenItems(batches)
	b := history.Batch{batches[0][0]}
	for _, a := range open.Activities {
		if a.Attempt <= 1 {
			b = append(b, &history.Event{Time: now, Type: history.TypeActivityScheduled, Attributes: a.Scheduled})
			continue
		}
		b = append(b, &history.Event{Time: now, Type: history.TypeActivityRetrying, Attributes: &history.ActivityRetrying{
			ID: a.Scheduled.ID, Attempt: a.Attempt - 1, Failure: a.LastFailure, NextAttemptAt: a.NextAttemptAt}})
	}
	for _, t := range open.Timers {
		b = append(b, &history.Event{Time: now, Type: history.TypeTimerStarted, Attributes: t})
	}
	return b
}

// closeSuperseded cleans up after a run that a reset terminated while a
// newer run took its place: its durable timers and delayed retries are
// purged (only its own subjects) and its open children get the
// parent-close policy. The normal close path cannot do it, since the
// instance's current run is the new one.
func (w *Worker) closeSuperseded(ctx context.Context, id, run string) error {
	_, batches, err := w.store.LoadRun(ctx, id, run)
	if err != nil {
		return err
	}
	cmds := parentCloseCommands(w.names, history.OpenItems(batches).Children)
	return w.sendCommands(ctx, append(cmds, schedulePurges(w.names, id, run)...))
}
