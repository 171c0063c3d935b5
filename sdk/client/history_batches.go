package client

import (
	"context"
	"fmt"

	"github.com/cairnhq/cairn/history"
)

// HistoryBatches returns the events of a run (the current one if run is
// empty) grouped as they were committed, one batch per workflow task: the
// form replay needs (history.ExportEvents turns it into the JSON export
// that `cairn workflow history --json` prints and testenv replays).
func (c *Client) HistoryBatches(ctx context.Context, id, run string) ([]history.Batch, error) {
	head, batches, err := c.store.LoadRun(ctx, id, run)
	if err != nil {
		return nil, err
	}
	if head == nil {
		return nil, fmt.Errorf("%w: %q run %q", ErrNotFound, id, run)
	}
	return batches, nil
}
