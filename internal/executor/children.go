package executor

import (
	"encoding/json"
	"fmt"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/coro"
)

type child struct {
	attrs  *history.ChildWorkflowScheduled
	future *coro.Future
	closed bool
}

// ChildFailure is the error of a child workflow future: the child's
// failure with its identity.
type ChildFailure struct {
	WorkflowType string
	WorkflowID   string
	Run          string
	Failure      *history.Failure
}

func (e *ChildFailure) Error() string {
	return fmt.Sprintf("child workflow %s %q (run %s): %s", e.WorkflowType, e.WorkflowID, e.Run, e.Failure.Error())
}

// StartChild issues the command to run a child workflow; the future
// resolves with its result payload or a *ChildFailure. Canceling ctx asks
// the child to cancel; the future still resolves with how the child ended.
func (c *Ctx) StartChild(workflowType, workflowID, queue string, input json.RawMessage, policy history.ParentClosePolicy) *coro.Future {
	in := c.inst
	if err := c.Err(); err != nil {
		return failedFuture(err)
	}
	id := int64(in.nextCmd + 1)
	if workflowID == "" {
		workflowID = fmt.Sprintf("%s/child-%d", in.started.WorkflowID, id)
	}
	if queue == "" {
		queue = in.started.TaskQueue
	}
	if policy == "" {
		policy = history.ParentCloseTerminate
	}
	ev := in.command(&history.Event{Type: history.TypeChildWorkflowScheduled, Attributes: &history.ChildWorkflowScheduled{
		ID: id, WorkflowType: workflowType, WorkflowID: workflowID, Run: in.nextRunID(), TaskQueue: queue,
		Input: input, ParentClosePolicy: policy}})
	ch := &child{attrs: ev.Attributes.(*history.ChildWorkflowScheduled), future: coro.NewFuture()}
	in.children[id] = ch
	c.onCancel(func() {
		if !ch.closed {
			in.command(&history.Event{Type: history.TypeChildCancelRequested, Attributes: &history.ChildCancelRequested{ID: id}})
		}
	})
	return ch.future
}

// Child returns the scheduled attributes of child id (nil if none).
func (in *Instance) Child(id int64) *history.ChildWorkflowScheduled {
	if ch := in.children[id]; ch != nil {
		return ch.attrs
	}
	return nil
}

// ChildOpen reports whether the run's child id was scheduled and has not
// closed.
func (in *Instance) ChildOpen(id int64) bool {
	ch := in.children[id]
	return ch != nil && !ch.closed
}

// OpenChildren returns the children that have not closed, in the order
// they were started: what the parent-close policy applies to.
func (in *Instance) OpenChildren() []*history.ChildWorkflowScheduled {
	var out []*history.ChildWorkflowScheduled
	for id := int64(1); id <= int64(in.nextCmd); id++ {
		if ch := in.children[id]; ch != nil && !ch.closed {
			out = append(out, ch.attrs)
		}
	}
	return out
}

// acceptChild reports whether a child's close notice applies: the child is
// open. Its run may differ from the scheduled one when the child continued
// as new.
func (in *Instance) acceptChild(id int64) bool {
	ch := in.children[id]
	return ch != nil && !ch.closed
}

func (in *Instance) applyChild(ev *history.Event) {
	switch a := ev.Attributes.(type) {
	case *history.ChildWorkflowCompleted:
		if ch := in.children[a.ID]; ch != nil && !ch.closed {
			ch.closed = true
			ch.future.Set(a.Result, nil)
		}
	case *history.ChildWorkflowFailed:
		if ch := in.children[a.ID]; ch != nil && !ch.closed {
			ch.closed = true
			ch.future.Set(nil, &ChildFailure{WorkflowType: ch.attrs.WorkflowType, WorkflowID: ch.attrs.WorkflowID,
				Run: a.Run, Failure: a.Failure})
		}
	}
}
