package workflow

import (
	"encoding/json"
	"fmt"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/internal/wf"
)

// ParentClosePolicy decides what happens to a child still running when its
// parent closes.
type ParentClosePolicy = history.ParentClosePolicy

// The parent-close policies.
const (
	ParentCloseTerminate = history.ParentCloseTerminate
	ParentCloseCancel    = history.ParentCloseCancel
	ParentCloseAbandon   = history.ParentCloseAbandon
)

// ChildWorkflowOptions configure the child workflows started under a
// context (Temporal's ChildWorkflowOptions). A WorkflowID that is not
// UTF-8 or longer than 1024 bytes, an invalid task queue or an unknown
// ParentClosePolicy fail the child's future with ErrInvalidOption,
// starting nothing.
type ChildWorkflowOptions struct {
	// WorkflowID of the child; empty means "<parent id>/child-<n>".
	WorkflowID string
	// TaskQueue of the child; empty means the parent's.
	TaskQueue string
	// ParentClosePolicy; empty means ParentCloseTerminate.
	ParentClosePolicy ParentClosePolicy
}

type childOptionsKey struct{}

// WithChildOptions returns a context whose child workflows use opts.
func WithChildOptions(ctx Context, opts ChildWorkflowOptions) Context {
	return WithValue(ctx, childOptionsKey{}, opts)
}

// ExecuteChildWorkflow starts fn as a child workflow with input in and
// returns its future. The child is a workflow of its own (own id, own
// history, visible in list and describe); the parent is notified exactly
// once when it closes. Canceling ctx asks the child to cancel; a child that
// fails, is canceled or terminated fails the future with a
// *failure.WorkflowError.
func ExecuteChildWorkflow[I, R any](ctx Context, fn func(Context, I) (R, error), in I) Future[R] {
	return ExecuteChildWorkflowByName[R](ctx, act.Name(fn), in)
}

// ExecuteChildWorkflowByName starts a child workflow by its registered type
// name. Invalid child options, or an input the converter cannot encode,
// fail the future at once and start nothing.
func ExecuteChildWorkflowByName[R any](ctx Context, workflowType string, in any) Future[R] {
	o, _ := ctx.Value(childOptionsKey{}).(ChildWorkflowOptions)
	if err := o.validate(); err != nil {
		return failed[R](ctx, fmt.Errorf("child workflow %s: %w", workflowType, err))
	}
	raw, err := wf.Converter(ctx).ToPayload(in)
	if err != nil {
		return failed[R](ctx, err)
	}
	return newFuture[R](ctx, wf.Exec(ctx).StartChild(workflowType, o.WorkflowID, o.TaskQueue, json.RawMessage(raw), o.ParentClosePolicy))
}
