package orchestrator

import (
	"errors"
	"fmt"
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
		err = &HistorySizeError{WorkflowID: s.id, Run: s.run, Bytes: e.head.Bytes + int64(len(data)), Limit: w.opts.MaxHistoryBytes}
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
		Queue: st.TaskQueue, Status: status, Batch: batch, Data: data, TaskTime: s.taskTime})
	if err != nil {
		w.commitFailed(s, err)
		return false
	}
	e.head, e.last = head, batch
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

// HistorySizeError reports a run whose stored history would grow past the
// configured size: nothing is committed and the instance parks, like
// executor.HistoryLimitError for the event count.
type HistorySizeError struct {
	WorkflowID string
	Run        string
	Bytes      int64
	Limit      int64
}

func (e *HistorySizeError) Error() string {
	return fmt.Sprintf("workflow %q run %s: history would reach %d bytes, over the limit of %d; continue as new (workflow.NewContinueAsNewError) before that",
		e.WorkflowID, e.Run, e.Bytes, e.Limit)
}

// Failure is the serialized form stored in the instance summary.
func (e *HistorySizeError) Failure() *history.Failure {
	return &history.Failure{Type: executor.FailureHistoryLimit, Message: e.Error(), NonRetryable: true}
}
