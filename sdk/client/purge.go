package client

import (
	"context"

	"github.com/cairnhq/cairn/internal/store"
)

// Errors of Purge, besides ErrNotFound. Match with errors.Is.
var (
	// ErrStillRunning: the instance's latest run is running (or continued
	// as new and its next run is starting); only closed instances are
	// purged.
	ErrStillRunning = store.ErrStillRunning
	// ErrNewerRun: the run given is not the instance's latest run.
	ErrNewerRun = store.ErrNewerRun
)

// Purge deletes a closed instance now, without waiting for its retention
// period: its history (every run), its summary and any schedule its last
// run left. If run is given it must be the instance's latest run. Purge
// refuses a running instance (ErrStillRunning) and returns ErrNotFound for
// an id without history. It never deletes a run started after it read the
// instance's state: history is purged only up to the closed run's last
// message, and the summary only while it reflects no newer history.
func (c *Client) Purge(ctx context.Context, id, run string) error {
	return store.NewPurger(c.js, c.names, c.store, c.summaries).Purge(ctx, id, run)
}
