package client

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/internal/store"
)

// Pause stops a running workflow from running any of its code until
// Resume: activity results, timer fires and signals that arrive meanwhile
// are recorded in order and applied when it resumes. Activities already
// running carry on; a cancel request waits for the resume; Terminate and
// the execution timeout still close a paused run. Pausing survives worker
// and server restarts (it is an event in history). Returns ErrNotFound or
// ErrNotRunning.
func (c *Client) Pause(ctx context.Context, id, run, reason string) error {
	return c.store.Pause(ctx, id, run, reason, c.identity())
}

// Resume ends a pause; the code runs on over everything that arrived.
func (c *Client) Resume(ctx context.Context, id, run, reason string) error {
	return c.store.Resume(ctx, id, run, reason, c.identity())
}

// ResetOptions chooses the cut of a reset.
type ResetOptions struct {
	// Run is the run to cut from ("" = the current run). It may be closed.
	Run string
	// EventSeq is the last event kept; the cut moves forward to the end
	// of the workflow task that holds it (a task commits whole).
	EventSeq int64
	// Reason is recorded with the reset (and the termination it makes).
	Reason string
	// RequestID makes a retried reset idempotent: the same RequestID gives
	// the same new run. Empty: every call makes a new run.
	RequestID string
}

// ResetResult is the run a reset or redrive made.
type ResetResult struct {
	// Run is the new run.
	Run string
	// EventSeq is the last event it kept from the base run.
	EventSeq int64
	// Terminated is the run closed by the reset, if one was running.
	Terminated string
}

// Reset starts a new run of the workflow whose history is a prefix of an
// existing run: everything up to the cut replays, the rest runs again
// with the current code (Temporal's reset). A running current run is
// terminated in the same atomic append. Activities open at the cut are
// dispatched again; timers are re-armed. Open child workflows or callback
// waits at the cut make it ErrInvalidReset (they are bound to the old
// run): pick a point before they started or after they closed.
func (c *Client) Reset(ctx context.Context, id string, opts ResetOptions) (*ResetResult, error) {
	if opts.EventSeq < 1 {
		return nil, fmt.Errorf("%w: reset of %q needs an event sequence >= 1", ErrInvalidArgument, id)
	}
	return c.reset(ctx, store.ResetRequest{WorkflowID: id, Run: opts.Run, EventSeq: opts.EventSeq,
		Reason: opts.Reason, NewRun: opts.RequestID})
}

// Redrive continues a failed (or timed-out) run from the step that failed,
// keeping every step that succeeded (Step Functions' RedriveExecution):
// the new run's history stops just before the task in which the last step
// failed, and that step runs again from attempt 1 with its whole retry
// policy. When the code failed on its own, the last task runs again.
func (c *Client) Redrive(ctx context.Context, id, run, reason string) (*ResetResult, error) {
	return c.reset(ctx, store.ResetRequest{WorkflowID: id, Run: run, Redrive: true, Reason: reason})
}

func (c *Client) reset(ctx context.Context, req store.ResetRequest) (*ResetResult, error) {
	if req.NewRun == "" {
		req.NewRun = newRequestRun()
	}
	r, err := c.store.Reset(ctx, req)
	if err != nil {
		return nil, err
	}
	// The summary follows the new run (its attributes and custom status
	// come with the copied prefix); a failure here is repaired by the
	// run's next summary write.
	_ = c.summaries.Refresh(ctx, req.WorkflowID)
	return &ResetResult{Run: r.Run, EventSeq: r.EventSeq, Terminated: r.Terminated}, nil
}

func newRequestRun() string { return nuid.Next() }

func (c *Client) identity() string {
	if c.opts.identity != "" {
		return c.opts.identity
	}
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}
