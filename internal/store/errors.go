package store

import (
	"errors"
	"fmt"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
)

// Errors of the store. Callers decide with errors.Is; the wrapping message
// names the instance, the run and, where there is one, the event sequence.
var (
	// ErrConflict: another writer appended to the instance's history first.
	ErrConflict = errors.New("history changed concurrently")
	// ErrNotFound: the instance has no history (or not the named run).
	ErrNotFound = errors.New("workflow not found")
	// ErrNotRunning: the run is already closed.
	ErrNotRunning = errors.New("workflow is not running")
	// ErrAlreadyExists: the id is taken by a closed run and the reuse policy
	// forbids another.
	ErrAlreadyExists = errors.New("workflow id already used")
	// ErrInvalidToken: the string is not a callback token.
	ErrInvalidToken = history.ErrInvalidToken
	// ErrCallbackNotPending: the token's wait is over (completed, failed,
	// timed out, or its run closed) or never existed.
	ErrCallbackNotPending = errors.New("callback is not pending")
	// ErrInvalidReset: the reset or redrive asked for cannot be made (a cut
	// point past the close, open child workflows or callbacks at the cut, a
	// redrive of a run that did not fail).
	ErrInvalidReset = errors.New("invalid reset")
	// ErrStillRunning: the instance's latest run has not closed (or it
	// continued as new), so there is nothing to purge yet.
	ErrStillRunning = errors.New("workflow is still running")
	// ErrNewerRun: the run named is not the instance's latest; purging
	// would delete the newer run too.
	ErrNewerRun = errors.New("workflow has a newer run")
	// ErrUnknownQuery: the workflow registered no handler of that name.
	ErrUnknownQuery = executor.ErrUnknownQuery
	// ErrNoWorker: no live worker serves the workflow's task queue.
	ErrNoWorker = errors.New("no live worker serves the task queue")
	// ErrCorruptHistory: a message of the instance's history is not one
	// the engine writes. Loads fail with a *CorruptHistoryError wrapping
	// it, and the engine parks the instance: nothing is taken from it.
	ErrCorruptHistory = errors.New("corrupt history")
	// ErrMalformedInbox: an inbox message that can never be processed (an
	// unknown kind, or a body or header that does not fit its kind).
	ErrMalformedInbox = errors.New("malformed inbox message")
)

// CorruptHistoryError is a history message that is not one the engine
// writes: its body is not a batch of events, its headers do not describe
// it, or its events do not continue the run. The engine did not write it
// (or it was damaged), so neither a worker nor a client acts on what it
// says: the load fails, the instance is parked, describe shows why.
type CorruptHistoryError struct {
	WorkflowID string
	// Seq is the message's stream sequence.
	Seq uint64
	// Reason says what is wrong with it.
	Reason string
	// Err is the decoding error, if any.
	Err error
}

func (e *CorruptHistoryError) Error() string {
	msg := fmt.Sprintf("history of %q at stream sequence %d is corrupt: %s", e.WorkflowID, e.Seq, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap lets errors.Is match ErrCorruptHistory and the decoding error.
func (e *CorruptHistoryError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCorruptHistory}
	}
	return []error{ErrCorruptHistory, e.Err}
}
