package client

import (
	"context"
	"fmt"

	"github.com/cairnhq/cairn/internal/store"
)

// Errors of queries.
var (
	// ErrUnknownQuery: the workflow registered no handler of that name.
	ErrUnknownQuery = store.ErrUnknownQuery
	// ErrNoWorker: no live worker serves the workflow's task queue, so
	// nothing can answer.
	ErrNoWorker = store.ErrNoWorker
)

// Query runs the workflow's query handler name (workflow.SetQueryHandler)
// with args on a live worker, against the current run's state, and decodes
// the answer into resultPtr. A closed run is answered too: a worker of its
// task queue replays its history (as Temporal does). It writes nothing.
func (c *Client) Query(ctx context.Context, id, name string, args any, resultPtr any) error {
	raw, err := c.opts.dc.ToPayload(args)
	if err != nil {
		return fmt.Errorf("%w: query args: %w", ErrInvalidInput, err)
	}
	out, err := c.QueryRaw(ctx, id, name, raw)
	if err != nil || resultPtr == nil {
		return err
	}
	return c.opts.dc.FromPayload(out, resultPtr)
}

// QueryRaw is Query with encoded args and result.
func (c *Client) QueryRaw(ctx context.Context, id, name string, args []byte) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty query name", ErrInvalidArgument)
	}
	if err := c.checkSignal(name, args); err != nil {
		return nil, err
	}
	return c.store.Query(ctx, id, name, args)
}
