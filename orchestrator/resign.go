package orchestrator

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

// resignUnsigned takes the unsigned timer fires and execution timeouts
// off the task (they are never applied) and arms their timers again,
// signed, at the timers' own due times. A schedule armed before timer
// tokens existed fires unsigned once: its workflow wakes a moment later, on
// the signed fire, instead of sleeping forever after an upgrade. A forged
// unsigned fire gains nothing: the timer it names was armed already, for
// the same time, and a closed timer is not armed again. It reports false
// when the commands could not be sent (the messages come back).
func (w *Worker) resignUnsigned(s *taskState) bool {
	var cmds []command
	kept := s.items[:0]
	var unsigned []*item
	for _, it := range s.items {
		if !it.unsigned {
			kept = append(kept, it)
			continue
		}
		unsigned = append(unsigned, it)
		if it.run == s.run {
			cmds = append(cmds, w.rearm(s.ctx, s.e, it)...)
		}
	}
	if len(unsigned) == 0 {
		return true
	}
	if len(cmds) > 0 {
		if err := w.sendCommands(s.ctx, cmds); err != nil {
			s.log.Warn("arming unsigned timers again failed; will retry", "run", s.run, "error", err)
			s.retry(time.Second)
			return false
		}
		s.log.Info("timer fire without a token: its timer is armed again, signed", "run", s.run, "timers", len(cmds))
	}
	ackAll(unsigned)
	s.items = kept
	return true
}

// rearm is the schedule of the timer an unsigned fire names, if it is
// still open: a user timer at its due time, or the run's execution
// timeout.
func (w *Worker) rearm(ctx context.Context, e *entry, it *item) []command {
	d := newDeriver(w.runInfo(ctx, e), w.commandConfig())
	switch it.kind {
	case store.KindTimerFired:
		a, ok := it.ev.Attributes.(*history.TimerFired)
		if !ok {
			return nil
		}
		at, open := e.inst.TimerFireAt(a.ID)
		if !open {
			return nil
		}
		started := &history.TimerStarted{ID: a.ID, FireAt: at}
		return []command{d.timer(&history.Event{Time: time.Now().UTC(), Type: history.TypeTimerStarted, Attributes: started}, started)}
	case store.KindWorkflowTimeout:
		st := e.inst.Started()
		return d.workflowTimeout(&history.Event{Time: e.inst.StartTime(), Type: history.TypeWorkflowStarted, Attributes: st}, st)
	}
	return nil
}
