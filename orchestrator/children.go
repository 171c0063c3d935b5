package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
)

// startChildCommand starts a child run with the run id its parent chose, so
// a re-emitted start finds the child already there (startChild).
//
// traceParent is the scheduling workflow task's trace context: the child's
// execution is traced in the parent's trace, under that task.
func startChildCommand(parent *history.WorkflowStarted, a *history.ChildWorkflowScheduled, traceParent string) command {
	if traceParent == "" {
		traceParent = parent.TraceParent
	}
	return command{kind: cmdStartChild, start: &store.StartRequest{WorkflowID: a.WorkflowID, WorkflowType: a.WorkflowType,
		TaskQueue: a.TaskQueue, Input: a.Input, Run: a.Run, TraceParent: traceParent,
		Parent: &history.ParentInfo{WorkflowID: parent.WorkflowID, Run: parent.Run, TaskQueue: parent.TaskQueue, ChildID: a.ID}}}
}

// startChild carries out a cmdStartChild. If the child's workflow id is
// held by another running run, the parent learns that the child could not
// start.
func (w *Worker) startChild(ctx context.Context, set *commandSet, req *store.StartRequest) error {
	res, err := w.store.Start(ctx, *req)
	if err != nil {
		return err
	}
	if res.Run == req.Run {
		return nil
	}
	p := req.Parent
	f := &history.Failure{Type: history.FailureChildStart, NonRetryable: true,
		Message: "workflow id " + strconv.Quote(req.WorkflowID) + " is already running as run " + res.Run}
	m, err := store.NewChildClosed(w.names.InboxSubject(p.TaskQueue, p.WorkflowID), w.names.InstanceKey(p.WorkflowID),
		p.Run, p.ChildID, req.Run, nil, f)
	if err != nil {
		return err
	}
	return w.publish(set, m)
}

// notifyParentCommand tells the parent of a closed child how it ended. The
// message id makes the notice land once however often it is re-emitted, and
// the parent records it once (history.ChildWorkflowCompleted/Failed). It
// reports false for a run without a parent or one that continues as new.
func notifyParentCommand(names streams.Names, started *history.WorkflowStarted, closeEv *history.Event) (command, bool) {
	p := started.Parent
	if p == nil || !closeEv.IsClose() {
		return command{}, false
	}
	if closeEv.Type == history.TypeWorkflowContinuedAsNew {
		// The child carries on as a new run; the parent waits for the
		// chain's end, which that run will report with the same ids.
		return command{}, false
	}
	var result json.RawMessage
	if a, ok := closeEv.Attributes.(*history.WorkflowCompleted); ok {
		result = a.Result
	}
	f := history.CloseFailure(closeEv)
	m, err := store.NewChildClosed(names.InboxSubject(p.TaskQueue, p.WorkflowID), names.InstanceKey(p.WorkflowID),
		p.Run, p.ChildID, started.Run, result, f)
	return command{kind: cmdNotifyParent, msg: m, err: err}, true
}

// parentCloseCommands apply the parent-close policy to the children still
// open when a parent closes: abandon, cancel, or (the default) terminate.
func parentCloseCommands(names streams.Names, open []*history.ChildWorkflowScheduled) []command {
	var cmds []command
	for _, ch := range open {
		switch ch.ParentClosePolicy {
		case history.ParentCloseAbandon:
		case history.ParentCloseCancel:
			cmds = append(cmds, command{kind: cmdCancelChild, msg: store.NewCancel(names.InboxSubject(ch.TaskQueue, ch.WorkflowID),
				names.InstanceKey(ch.WorkflowID), ch.Run, "parent closed")})
		default:
			cmds = append(cmds, command{kind: cmdTerminateChild,
				terminate: &terminateRequest{workflowID: ch.WorkflowID, run: ch.Run, reason: "parent closed"}})
		}
	}
	return cmds
}

// terminateChild carries out a cmdTerminateChild; a child already closed or
// gone is no error.
func (w *Worker) terminateChild(ctx context.Context, t *terminateRequest) error {
	_, err := w.store.Terminate(ctx, t.workflowID, t.run, t.reason)
	if err != nil && !errors.Is(err, store.ErrNotRunning) && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
