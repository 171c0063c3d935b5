package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

// startChild starts a child run with the run id its parent chose, so a
// re-emitted start finds the child already there. If the child's workflow
// id is held by another running run, the parent learns that the child
// could not start.
//
// traceParent is the scheduling workflow task's trace context: the child's
// execution is traced in the parent's trace, under that task.
func (w *Worker) startChild(ctx context.Context, em *emission, parent *history.WorkflowStarted, a *history.ChildWorkflowScheduled, traceParent string) error {
	if traceParent == "" {
		traceParent = parent.TraceParent
	}
	res, err := w.store.Start(ctx, store.StartRequest{WorkflowID: a.WorkflowID, WorkflowType: a.WorkflowType, TaskQueue: a.TaskQueue,
		Input: a.Input, Run: a.Run, TraceParent: traceParent,
		Parent: &history.ParentInfo{WorkflowID: parent.WorkflowID, Run: parent.Run, TaskQueue: parent.TaskQueue, ChildID: a.ID}})
	if err != nil {
		return err
	}
	if res.Run == a.Run {
		return nil
	}
	f := &history.Failure{Type: history.FailureChildStart, NonRetryable: true,
		Message: "workflow id " + strconv.Quote(a.WorkflowID) + " is already running as run " + res.Run}
	m, err := store.NewChildClosed(w.names.InboxSubject(parent.TaskQueue, parent.WorkflowID), w.names.InstanceKey(parent.WorkflowID),
		parent.Run, a.ID, a.Run, nil, f)
	if err != nil {
		return err
	}
	return em.publish(m)
}

// notifyParent tells the parent of a closed child how it ended. The
// message id makes the notice land once however often it is re-emitted, and
// the parent records it once (history.ChildWorkflowCompleted/Failed).
func (w *Worker) notifyParent(em *emission, started *history.WorkflowStarted, closeEv *history.Event) error {
	p := started.Parent
	if p == nil || !closeEv.IsClose() {
		return nil
	}
	if closeEv.Type == history.TypeWorkflowContinuedAsNew {
		// The child carries on as a new run; the parent waits for the
		// chain's end, which that run will report with the same ids.
		return nil
	}
	var result json.RawMessage
	if a, ok := closeEv.Attributes.(*history.WorkflowCompleted); ok {
		result = a.Result
	}
	f := history.CloseFailure(closeEv)
	m, err := store.NewChildClosed(w.names.InboxSubject(p.TaskQueue, p.WorkflowID), w.names.InstanceKey(p.WorkflowID),
		p.Run, p.ChildID, started.Run, result, f)
	if err != nil {
		return err
	}
	return em.publish(m)
}

// closeChildren applies the parent-close policy to the children still
// open when a parent closes.
func (w *Worker) closeChildren(ctx context.Context, em *emission, open []*history.ChildWorkflowScheduled) error {
	for _, ch := range open {
		switch ch.ParentClosePolicy {
		case history.ParentCloseAbandon:
		case history.ParentCloseCancel:
			if err := em.publish(store.NewCancel(w.names.InboxSubject(ch.TaskQueue, ch.WorkflowID), w.names.InstanceKey(ch.WorkflowID),
				ch.Run, "parent closed")); err != nil {
				return err
			}
		default:
			_, err := w.store.Terminate(ctx, ch.WorkflowID, ch.Run, "parent closed")
			if err != nil && !errors.Is(err, store.ErrNotRunning) && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// reemitClose re-publishes the commands of a closed run's last batch, for
// a run loaded cold: the next run of a continue-as-new, the parent-close
// policy, the notice to the parent and the purge of the run's schedules.
// Each is idempotent.
func (w *Worker) reemitClose(ctx context.Context, e *entry) error {
	if e.started == nil || len(e.last) == 0 {
		return nil
	}
	closeEv := e.last[len(e.last)-1]
	if !closeEv.IsClose() {
		return nil
	}
	em := &emission{w: w}
	if a, ok := closeEv.Attributes.(*history.WorkflowContinuedAsNew); ok {
		if err := w.continueAsNew(em, e.id, e.head, e.started.Parent, closeEv.Time, a); err != nil {
			return err
		}
	}
	if err := w.closeChildren(ctx, em, e.openChildren); err != nil {
		return err
	}
	if err := w.notifyParent(em, e.started, closeEv); err != nil {
		return err
	}
	if err := w.scheduleRetention(em, e.id, e.head.Run, closeEv); err != nil {
		return err
	}
	w.closeCommands(em, e.id, e.head.Run)
	if err := em.wait(ctx); err != nil {
		return err
	}
	// The summary write is a close command too (see summarize).
	return w.summaries.CatchUp(ctx, e.id, e.head)
}
