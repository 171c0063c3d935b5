package store

import (
	"context"
	"encoding/json"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// Backend is the storage seam: everything the orchestrator, the client,
// the CloudEvents ingress and the scheduler read or write about an
// instance goes through it. JetStream is its implementation; the instance
// summaries (Summaries), the type registry (Registry) and purging (Purger)
// are separate, smaller types of this package.
type Backend interface {
	History
	Operations
	// Names returns the namespace's stream and subject names.
	Names() streams.Names
}

// History reads and appends instance histories. Every write is a
// conditional append: it fails with ErrConflict when the history no longer
// ends where the writer read it.
type History interface {
	// Head returns what the last history message of an instance says, or
	// nil if it has no history. One direct get.
	Head(ctx context.Context, workflowID string) (*Head, error)
	// IsHead reports whether the history still ends at head (nil: has
	// none), as the stream's leader has it: a read any replica answers may
	// be behind.
	IsHead(ctx context.Context, workflowID string, head *Head) (bool, error)
	// Last returns the head and the decoded last batch (nil, nil if none).
	Last(ctx context.Context, workflowID string) (*Head, history.Batch, error)
	// Load returns the head and the batches of the current run.
	Load(ctx context.Context, workflowID string) (*Head, []history.Batch, error)
	// LoadRun returns the head and the batches of one run ("" = current).
	LoadRun(ctx context.Context, workflowID, run string) (*Head, []history.Batch, error)
	// Append commits a batch if the history still ends at req.Prev; a
	// retried append of the same batch succeeds.
	Append(ctx context.Context, req AppendRequest) (*Head, error)
}

// Operations are the requests made of an instance from outside its
// workflow code. None needs a live worker except Query; each returns
// ErrNotFound or ErrNotRunning when the run it names is not there to
// take it.
type Operations interface {
	// Start starts a run (or returns the running one) with the two-step
	// protocol of docs/design/engine.md.
	Start(ctx context.Context, req StartRequest) (*StartResult, error)
	// Terminate closes a running run at once, without running its code.
	Terminate(ctx context.Context, workflowID, run, reason string) (*Head, error)
	// Signal delivers a named signal; id de-duplicates.
	Signal(ctx context.Context, workflowID, run, name, id string, payload []byte) error
	// Cancel asks a running run to cancel.
	Cancel(ctx context.Context, workflowID, run, reason string) error
	// Pause and Resume stop and restart the run's code.
	Pause(ctx context.Context, workflowID, run, reason, identity string) error
	Resume(ctx context.Context, workflowID, run, reason, identity string) error
	// Reset makes a new run from a prefix of an existing one, atomically.
	Reset(ctx context.Context, req ResetRequest) (*ResetResult, error)
	// CompleteCallback delivers the outcome (or a heartbeat) of a callback;
	// of its decisions exactly one wins (ErrCallbackNotPending for others).
	// digest identifies the decision's value when payload does not (an
	// encrypted payload differs on every call); nil means payload does.
	CompleteCallback(ctx context.Context, tok *history.CallbackToken, kind string, payload, digest []byte) error
	// Query asks a live worker to run a query handler; nothing is written.
	Query(ctx context.Context, workflowID, name string, args json.RawMessage) (json.RawMessage, error)
}

var _ Backend = (*JetStream)(nil)
