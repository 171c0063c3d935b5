package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// WatchHistory passes fn the events of a run (the current one if run is
// empty) recorded after event after, oldest first, as they are committed,
// until the run closes: it returns nil once fn has had the close event.
// It also returns when fn returns an error (that error) or ctx ends. A
// run that continues as new ends its own watch; watch the next run by its
// id (Description.NextRun).
func (c *Client) WatchHistory(ctx context.Context, id, run string, after int64, fn func(history.ExportedEvent) error) error {
	hint := make(chan struct{}, 1)
	sub, err := c.nc.Subscribe(c.names.HistorySubject(id), func(*nats.Msg) {
		select {
		case hint <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		batches, err := c.HistoryBatches(ctx, id, run)
		switch {
		case err != nil && ctx.Err() == nil && transient(err):
		case err != nil:
			return err
		case len(batches) > 0 && len(batches[0]) > 0:
			if run == "" {
				// Keep to the run first seen, even if a newer one starts.
				ws, ok := batches[0][0].Attributes.(*history.WorkflowStarted)
				if !ok {
					return fmt.Errorf("%w: run of %q does not begin with WorkflowStarted", ErrCorruptHistory, id)
				}
				run = ws.Run
			}
			exported := history.ExportEvents(batches)
			i := 0
			for _, b := range batches {
				for _, ev := range b {
					x := exported[i]
					i++
					if x.Seq <= after {
						continue
					}
					if err := fn(x); err != nil {
						return err
					}
					after = x.Seq
					wait = 10 * time.Millisecond
					if ev.IsClose() {
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-hint:
			// The batch may not be readable yet: read again shortly.
			wait = 5 * time.Millisecond
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		case <-time.After(wait):
		}
	}
}

// SummaryChange is a change of the namespace's listing: a summary written
// (a run started, closed, parked, paused, ...) or an instance purged.
type SummaryChange struct {
	// Summary is the instance's summary as written; for a purge, only its
	// WorkflowID is set.
	Summary history.Summary
	// Deleted is set when the instance was purged.
	Deleted bool
	// Revision orders the changes.
	Revision uint64
}

// WatchSummaries passes fn every change of the namespace's listing made
// after the call, in order, until ctx ends or fn returns an error. The
// listing may lag history by a moment (Describe reads history).
func (c *Client) WatchSummaries(ctx context.Context, fn func(SummaryChange) error) error {
	w, err := c.summaries.KV().WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("client: watch summaries: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("client: watch summaries: the watch ended")
			}
			if e == nil {
				continue // the end of the initial values (none: updates only)
			}
			ch := SummaryChange{Revision: e.Revision()}
			if e.Operation() != jetstream.KeyValuePut {
				id, err := streams.UnescapeToken(e.Key())
				if err != nil {
					continue
				}
				ch.Summary.WorkflowID, ch.Deleted = id, true
			} else if err := json.Unmarshal(e.Value(), &ch.Summary); err != nil {
				continue // not a summary cairn writes
			}
			if err := fn(ch); err != nil {
				return err
			}
		}
	}
}
