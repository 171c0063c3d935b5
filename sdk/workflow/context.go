package workflow

import (
	"log/slog"
	"time"

	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/wf"
)

// Context is the context of workflow code. It carries the run's
// deterministic clock, cancellation and values. Never use a context.Context
// in its place, nor keep it beyond the workflow function.
type Context = wf.Context

// CancelFunc cancels a context made by WithCancel.
type CancelFunc func()

// WithCancel returns a child context and a function that cancels it:
// activities and timers started under it are canceled with it.
func WithCancel(parent Context) (Context, CancelFunc) {
	x, cancel := wf.Exec(parent).WithCancel()
	return wf.Wrap(x), CancelFunc(cancel)
}

// NewDisconnectedContext returns a context that is not canceled when the
// workflow is: clean-up after a cancel request runs under it.
func NewDisconnectedContext(parent Context) Context {
	return wf.Wrap(wf.Exec(parent).Disconnected())
}

// WithValue returns a child context carrying key=val.
func WithValue(parent Context, key, val any) Context {
	return wf.Wrap(wf.Exec(parent).WithValue(key, val))
}

// Done returns a channel that is closed when ctx is canceled.
func Done(ctx Context) ReceiveChannel[struct{}] {
	return ReceiveChannel[struct{}]{c: wf.Exec(ctx).Done()}
}

// Now returns the workflow clock: the time the current workflow task
// started. It is the same on every replay.
func Now(ctx Context) time.Time { return wf.Exec(ctx).Now() }

// IsReplaying reports whether the code is re-running recorded history.
// Use it only to suppress side effects such as metrics.
func IsReplaying(ctx Context) bool { return wf.Exec(ctx).IsReplaying() }

// GetLogger returns the run's logger. Lines logged while replaying are
// dropped, so each appears once per real execution.
func GetLogger(ctx Context) *slog.Logger {
	x := wf.Exec(ctx)
	info := x.Info()
	return x.Instance().Logger().With("workflow_id", info.WorkflowID, "run", info.Run, "workflow_type", info.WorkflowType)
}

// SetStatus publishes v as the workflow's custom status: describe and list
// show the latest one (a progress figure, a stage name). It is recorded in
// history, so set it when it changes, not in a tight loop.
func SetStatus(ctx Context, v any) error {
	raw, err := wf.Converter(ctx).ToPayload(v)
	if err != nil {
		return err
	}
	wf.Exec(ctx).SetStatus(raw)
	return nil
}

// Info describes the running workflow.
type Info struct {
	// WorkflowID is the workflow id, Run the id of this run of it.
	WorkflowID string
	Run        string
	// WorkflowType is the registered type name.
	WorkflowType string
	// TaskQueue is the queue the run is served on.
	TaskQueue string
	// StartTime is when the run started.
	StartTime time.Time
}

// GetInfo returns the identity of the running workflow.
func GetInfo(ctx Context) Info {
	x := wf.Exec(ctx)
	s := x.Info()
	return Info{WorkflowID: s.WorkflowID, Run: s.Run, WorkflowType: s.WorkflowType, TaskQueue: s.TaskQueue,
		StartTime: x.Instance().StartTime()}
}

// DefaultVersion is the version GetVersion returns for runs that reached
// the change before it was made.
const DefaultVersion = -1

// GetVersion guards a change to workflow code so that runs already past it
// keep their old behaviour. The first time a run reaches the change the
// highest supported version is recorded; runs that passed the point before
// the change get DefaultVersion. Remove an old branch (raise minSupported)
// only when no run that needs it remains.
//
//	v := workflow.GetVersion(ctx, "add-fraud-check", workflow.DefaultVersion, 1)
//	if v == 1 { ... new code ... }
func GetVersion(ctx Context, changeID string, minSupported, maxSupported int) int {
	return wf.Exec(ctx).GetVersion(changeID, minSupported, maxSupported)
}

// NewContinueAsNewError returns the error a workflow returns to close its
// run and continue as a new run of the same workflow id, with input and a
// fresh history (events it received but did not take are carried over).
// Long-lived workflows use it to keep their history bounded.
//
//	return state, workflow.NewContinueAsNewError(ctx, state)
func NewContinueAsNewError(ctx Context, input any) error {
	raw, err := wf.Converter(ctx).ToPayload(input)
	if err != nil {
		return err
	}
	return &executor.ContinueAsNewError{Input: raw}
}
