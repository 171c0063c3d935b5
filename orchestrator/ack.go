package orchestrator

import (
	"context"
	"time"
)

// acknowledge is the task's last phase: it acknowledges the inbox messages
// once the summary writes of the task's batches are done (ackAfter), clears
// a park the task outlived, and ends the worker's business with a run the
// task closed.
func (w *Worker) acknowledge(s *taskState) {
	w.ackAfter(s.id, s.items, s.writes)
	if w.summaries.WasParked(s.id) {
		w.background(func(ctx context.Context) { w.summaries.Unpark(ctx, s.id) })
	}
	if s.e.inst.Closed() != nil {
		w.closed(s.ctx, s.e)
		s.c.remove(s.id)
	}
}

// ackAfter acknowledges a task's inbox messages once the summary writes its
// batches need are done, in the background writer so that the shard goes
// on with other instances meanwhile. A failed write hands the messages
// back: their redelivery makes a worker catch the summary up.
func (w *Worker) ackAfter(id string, items []*item, writes []func(context.Context) error) {
	if len(writes) == 0 {
		ackAll(items)
		return
	}
	w.background(func(ctx context.Context) {
		for _, write := range writes {
			if err := write(ctx); err != nil {
				w.log.Warn("summary write failed; the task's messages come back to redo it", "workflow_id", id, "error", err)
				for _, it := range items {
					_ = it.msg.NakWithDelay(time.Second)
				}
				return
			}
		}
		ackAll(items)
	})
}

// ackAll acknowledges every item.
func ackAll(items []*item) {
	for _, it := range items {
		_ = it.msg.Ack()
	}
}
