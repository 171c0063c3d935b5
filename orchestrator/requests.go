package orchestrator

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/cairnhq/cairn/internal/store"
)

// serveRequests carries out the terminate and reset requests among items
// for clients that do not write history themselves
// (store.WithoutHistoryWrites): the engine makes the append the client
// would have made, with the same store call, and the wakes that follow it
// reach this worker as they would after the client's own append. A request
// the instance cannot take any more (the run closed, or is gone) is
// acknowledged: the client, watching the head, reports it. One that failed
// otherwise comes back later. It returns the other items; the cached copy
// is dropped if a request was carried out, since history moved under it.
func (w *Worker) serveRequests(ctx context.Context, log *slog.Logger, c *cache, id string, items []*item) []*item {
	out := items[:0]
	for _, it := range items {
		var err error
		switch it.kind {
		case store.KindTerminateRequest:
			_, err = w.store.Terminate(ctx, id, it.run, it.reason)
		case store.KindResetRequest:
			if it.reset.WorkflowID != id {
				// The subject names the instance; a body naming another
				// must not decide where the engine writes.
				log.Warn("reset request for another workflow refused", "names", it.reset.WorkflowID)
				w.deadLetter(ctx, it.msg, "reset request names workflow "+strconv.Quote(it.reset.WorkflowID))
				continue
			}
			_, err = w.store.Reset(ctx, *it.reset)
		default:
			out = append(out, it)
			continue
		}
		c.remove(id)
		switch {
		case err == nil:
			log.Info("request carried out for a client", "kind", it.kind, "run", it.run)
			_ = it.msg.Ack()
		case errors.Is(err, store.ErrNotRunning), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidReset):
			log.Info("request refused: the run cannot take it", "kind", it.kind, "run", it.run, "error", err)
			_ = it.msg.Ack()
		case errors.Is(err, store.ErrCorruptHistory):
			// It would fail the same way forever.
			log.Warn("request refused: the history is corrupt", "kind", it.kind, "run", it.run, "error", err)
			w.deadLetter(ctx, it.msg, "request on a corrupt history: "+err.Error())
		default:
			log.Warn("carrying out a request failed; will retry", "kind", it.kind, "run", it.run, "error", err)
			_ = it.msg.NakWithDelay(time.Second)
		}
	}
	return out
}
