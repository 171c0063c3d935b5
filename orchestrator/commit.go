package orchestrator

import (
	"errors"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
)

// commit is the task's fourth phase: the conditional append of the batch
// (Nats-Expected-Last-Subject-Sequence = the head the instance was loaded
// at, a message id that makes a retried append a duplicate). A batch that
// would take the run past MaxHistoryBytes parks the instance instead; a
// conflict or a failed append evicts the instance and redelivers the
// messages, so the task is redone from history (commitFailed).
func (w *Worker) commit(s *taskState, batch history.Batch) bool {
	s.startSpan()
	e := s.e
	status := history.StatusRunning
	if ev := e.inst.Closed(); ev != nil {
		status = history.StatusOf(ev)
	}
	data, err := batch.Encode()
	if err == nil && status == history.StatusRunning && e.head.Bytes+int64(len(data)) > w.opts.MaxHistoryBytes {
		err = &executor.HistoryLimitError{WorkflowID: s.id, Run: s.run, EventSeq: batch[len(batch)-1].Seq,
			Measure: executor.HistoryBytes, Value: e.head.Bytes + int64(len(data)), Limit: w.opts.MaxHistoryBytes}
		s.c.remove(s.id)
		w.park(s.ctx, s.id, e, err, s.items)
		return false
	}
	if err != nil {
		s.log.Error("cannot encode the task's events", "run", s.run, "error", err)
		s.evict(time.Second)
		return false
	}
	st := e.inst.Started()
	head, err := w.store.Append(s.ctx, store.AppendRequest{WorkflowID: s.id, Prev: e.head, Run: s.run, Type: st.WorkflowType,
		Queue: st.TaskQueue, Status: status, Batch: batch, Data: data, TaskTime: s.taskTime, InboxSeq: maxSeq(s.items)})
	if err != nil {
		w.commitFailed(s, err)
		return false
	}
	e.head, e.last, e.consumed = head, batch, max(e.consumed, maxSeq(s.items))
	w.committed(s.ctx, e, batch)
	w.noteStatus(s.id, head, e.inst.StartTime(), batch)
	return true
}

// commitFailed follows an append that did not land: someone else moved the
// instance on (a conflict) or the server is away. The cached copy is
// forgotten and the task redone from history.
func (w *Worker) commitFailed(s *taskState, err error) {
	if errors.Is(err, store.ErrConflict) {
		s.log.Debug("commit conflict; task will be redone", "run", s.run)
		s.tt.fail(outcomeConflict, err)
	} else {
		s.log.Warn("commit failed; task will be redone", "run", s.run, "error", err)
		s.tt.fail(outcomeError, err)
	}
	s.evict(50 * time.Millisecond)
}
