package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

// noteStatus queues a summary update when a committed batch set a custom
// status, so list shows it. An index may lag a little: a worker dying
// before the write loses it until the run's next summary write (summaryWrite
// writes the whole summary).
func (w *Worker) noteStatus(id string, head *store.Head, _ time.Time, batch history.Batch) {
	var status json.RawMessage
	for _, ev := range batch {
		if a, ok := ev.Attributes.(*history.StatusSet); ok {
			status = a.Status
		}
		if needsSummary(ev) {
			return // summaryWrite writes it before the task is acknowledged
		}
	}
	if status != nil {
		w.background(func(ctx context.Context) { w.summaries.SetStatus(ctx, id, head, status) })
	}
}

// needsSummary reports whether an event must reach the summary before the
// task that committed it is acknowledged: list filters on search
// attributes and status, and retention purges by the close.
func needsSummary(ev *history.Event) bool {
	return ev.Type == history.TypeSearchAttributesUpserted || ev.IsClose() ||
		ev.Type == history.TypeWorkflowPaused || ev.Type == history.TypeWorkflowResumed
}

// summaryWrite returns the write of a cmdSummary command (nil if the run is
// not live): the batch set search attributes, paused or resumed, or closed
// the run, and list must show it. It snapshots what it writes, since the
// instance moves on while the write waits its turn in the background
// writer. The task acknowledges its inbox messages only after the write; if
// it fails, or the worker dies first, the messages come back redelivered
// and the worker that takes them catches the summary up from history
// (store.Summaries.catchUp).
func (w *Worker) summaryWrite(e *entry, ch *summaryChange) func(context.Context) error {
	if e.inst == nil || ch == nil {
		return nil
	}
	status, closeEv := ch.customStatus, ch.closeEv
	id, head, attrs := e.id, e.head, maps.Clone(e.inst.SearchAttributes())
	paused := e.inst.Paused() && e.inst.Closed() == nil
	return func(ctx context.Context) error {
		err := w.summaries.Write(ctx, id, head, func(cur *history.Summary) {
			cur.Status = head.Status
			cur.SearchAttributes = attrs
			cur.Paused = paused
			if status != nil {
				cur.CustomStatus = status
			}
			if closeEv != nil {
				store.FillClose(cur, closeEv)
				cur.Parked = nil
			}
		})
		if err != nil {
			return fmt.Errorf("summary of %q run %s at history sequence %d: %w", id, head.Run, head.Seq, err)
		}
		return nil
	}
}
