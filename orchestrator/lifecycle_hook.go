package orchestrator

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

// Lifecycle kinds: the status changes of a run reported to
// Options.Lifecycle.
const (
	LifecycleStarted    = "started"
	LifecycleCompleted  = "completed"
	LifecycleFailed     = "failed"
	LifecycleCanceled   = "canceled"
	LifecycleTerminated = "terminated"
	LifecycleTimedOut   = "timed_out"
	// LifecycleContinuedAsNew: the run closed and a new run carries on.
	LifecycleContinuedAsNew = "continued_as_new"
)

// LifecycleEvent is a change of a run's status, reported after it is
// committed to history. Delivery is at least once and in order per run; a
// worker that dies between commit and report loses the report.
type LifecycleEvent struct {
	Kind         string           `json:"kind"`
	WorkflowID   string           `json:"workflowId"`
	Run          string           `json:"run"`
	WorkflowType string           `json:"workflowType"`
	TaskQueue    string           `json:"taskQueue"`
	Time         time.Time        `json:"time"`
	Result       json.RawMessage  `json:"result,omitempty"`
	Failure      *history.Failure `json:"failure,omitempty"`
	TraceParent  string           `json:"traceParent,omitempty"`
}

// WithLifecycle registers fn to receive the lifecycle events of the runs
// this worker starts and closes. fn runs on the worker's ordered background
// writer, never on the task path; it must not block for long.
func WithLifecycle(fn func(context.Context, LifecycleEvent)) Option {
	return func(o *Options) { o.Lifecycle = fn }
}

func (w *Worker) reportStarted(ws *history.WorkflowStarted, at time.Time, head *store.Head) {
	// Runs started by the engine (continue-as-new) have no client to
	// write their summary; writing it again for a client's start is a
	// no-op (the summary already reflects that head).
	sum := &history.Summary{WorkflowID: ws.WorkflowID, WorkflowType: ws.WorkflowType, TaskQueue: ws.TaskQueue,
		Run: ws.Run, Status: history.StatusRunning, StartTime: at, HistorySeq: head.Seq, SearchAttributes: ws.SearchAttributes}
	w.background(func(ctx context.Context) { _ = w.summaries.Started(ctx, sum) })
	if w.opts.Lifecycle == nil {
		return
	}
	ev := LifecycleEvent{Kind: LifecycleStarted, WorkflowID: ws.WorkflowID, Run: ws.Run, WorkflowType: ws.WorkflowType,
		TaskQueue: ws.TaskQueue, Time: at, TraceParent: ws.TraceParent}
	w.background(func(ctx context.Context) { w.opts.Lifecycle(ctx, ev) })
}

func (w *Worker) reportClosed(id string, head *store.Head, last history.Batch, traceParent string) {
	if w.opts.Lifecycle == nil {
		return
	}
	for _, e := range last {
		if !e.IsClose() {
			continue
		}
		ev := LifecycleEvent{WorkflowID: id, Run: head.Run, WorkflowType: head.WorkflowType, TaskQueue: head.TaskQueue,
			Time: e.Time, TraceParent: traceParent}
		switch a := e.Attributes.(type) {
		case *history.WorkflowCompleted:
			ev.Kind, ev.Result = LifecycleCompleted, a.Result
		case *history.WorkflowFailed:
			ev.Kind, ev.Failure = LifecycleFailed, a.Failure
		case *history.WorkflowCanceled:
			ev.Kind, ev.Failure = LifecycleCanceled, a.Failure
		case *history.WorkflowTerminated:
			ev.Kind, ev.Failure = LifecycleTerminated, &history.Failure{Type: history.FailureTerminated, Message: a.Reason}
		case *history.WorkflowTimedOut:
			ev.Kind = LifecycleTimedOut
		case *history.WorkflowContinuedAsNew:
			ev.Kind = LifecycleContinuedAsNew
		}
		w.background(func(ctx context.Context) { w.opts.Lifecycle(ctx, ev) })
	}
}
