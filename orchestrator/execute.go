package orchestrator

import (
	"time"

	"github.com/cairnhq/cairn/history"
)

// execute is the task's third phase: it hands the inbound events to the
// run (the first execution only) and runs the workflow code until every
// coroutine blocks, which yields the batch to commit (possibly empty). Code
// that breaks determinism or panics never produces a batch: the instance
// is evicted and parked.
func (w *Worker) execute(s *taskState) (history.Batch, bool) {
	began := time.Now()
	batch, err := s.e.inst.Execute(began, s.inbound)
	s.taskTime = time.Since(began)
	s.inbound = nil
	if err != nil {
		s.c.remove(s.id)
		w.park(s.ctx, s.id, s.e, err, s.items)
		return nil, false
	}
	return batch, true
}
