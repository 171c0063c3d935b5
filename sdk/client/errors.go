package client

import (
	"errors"

	"github.com/cairnhq/cairn/internal/store"
)

// Errors of starts and run operations. Match with errors.Is; they are
// stable values, whatever layer detects them.
var (
	// ErrNotFound: no such workflow (or run).
	ErrNotFound = store.ErrNotFound
	// ErrNotRunning: the run is already closed.
	ErrNotRunning = store.ErrNotRunning
	// ErrAlreadyExists: the id's last run is closed and the reuse policy
	// forbids a new one.
	ErrAlreadyExists = store.ErrAlreadyExists
	// ErrUnknownWorkflowType: no worker ever registered the type on the
	// task queue, so the run could never execute.
	ErrUnknownWorkflowType = errors.New("unknown workflow type")
	// ErrInvalidInput: the input is not a valid payload.
	ErrInvalidInput = errors.New("invalid workflow input")
	// ErrPayloadTooLarge: the input exceeds the configured limit.
	ErrPayloadTooLarge = errors.New("payload too large")
	// ErrInvalidArgument: a malformed id, queue or option.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInvalidReset: the reset or redrive asked for cannot be made (see
	// the message: a cut past the close, open children or callbacks at the
	// cut, a redrive of a run that did not fail).
	ErrInvalidReset = store.ErrInvalidReset
	// ErrCorruptHistory: a message of the workflow's history is not one the
	// engine writes (written by something else, or damaged). Nothing is
	// read from it: describe, history and result fail with this error, and
	// the engine parks the instance.
	ErrCorruptHistory = store.ErrCorruptHistory
	// ErrNotConfirmed: a client WithoutHistoryWrites handed a start,
	// terminate or reset to the engine, and no worker of the run's task
	// queue carried it out before the context's deadline (30 s without
	// one). It stays queued and is carried out when a worker takes it.
	ErrNotConfirmed = store.ErrNotConfirmed
)
