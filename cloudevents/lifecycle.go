package cloudevents

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/workercfg"
	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/streams"
)

// LifecycleTypePrefix prefixes the CloudEvents type of lifecycle events:
// "io.cairn.workflow.started", "io.cairn.workflow.completed", ...
const LifecycleTypePrefix = "io.cairn.workflow."

// CloudEvents extension attributes of lifecycle events (extension names
// are lower-case alphanumerics).
const (
	ExtWorkflowID   = "cairnworkflowid"
	ExtRun          = "cairnrun"
	ExtWorkflowType = "cairnworkflowtype"
	ExtTaskQueue    = "cairntaskqueue"
	ExtTraceParent  = "traceparent"
)

// LifecycleSubject is the subject of lifecycle events of kind for workflow
// type typ in namespace ns: cairn.<ns>.lifecycle.<kind>.<type key>, the type
// escaped like every subject token (streams.EscapeToken). Subscribe to
// cairn.<ns>.lifecycle.> for everything, cairn.<ns>.lifecycle.*.<type> for
// one workflow type, cairn.<ns>.lifecycle.completed.> for one kind.
func LifecycleSubject(ns, kind, typ string) string {
	return "cairn." + ns + ".lifecycle." + kind + "." + streams.EscapeToken(typ)
}

// LifecyclePublisher publishes the lifecycle events of runs as CloudEvents
// (structured mode, JSON format, through the CloudEvents NATS binding). Plug
// it into a worker with
//
//	w, err := worker.New(nc, queue, pub.WorkerOption())
type LifecyclePublisher struct {
	nc  *nats.Conn
	ns  string
	log *slog.Logger
}

// NewLifecyclePublisher returns a publisher for namespace ns on nc.
func NewLifecyclePublisher(nc *nats.Conn, ns string, log *slog.Logger) *LifecyclePublisher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LifecyclePublisher{nc: nc, ns: ns, log: log}
}

// WorkerOption returns the worker option that makes a worker report the
// lifecycle changes of its runs to p.
func (p *LifecyclePublisher) WorkerOption() worker.Option {
	return workercfg.Engine(orchestrator.WithLifecycle(p.Publish))
}

// Event builds the CloudEvent of a lifecycle change: source
// "cairn://<ns>/<task queue>", subject the workflow id, id "<run>/<kind>"
// (a repeated report of the same change has the same id, so consumers can
// de-duplicate), time the change's commit time, data the result (completed)
// or the failure (failed, canceled, terminated, timed_out).
func (p *LifecyclePublisher) Event(le orchestrator.LifecycleEvent) *event.Event {
	ev := event.New()
	ev.SetID(le.Run + "/" + le.Kind)
	ev.SetSource("cairn://" + p.ns + "/" + le.TaskQueue)
	ev.SetType(LifecycleTypePrefix + le.Kind)
	ev.SetSubject(le.WorkflowID)
	t := le.Time
	if t.IsZero() {
		t = time.Now()
	}
	ev.SetTime(t.UTC())
	ev.SetExtension(ExtWorkflowID, le.WorkflowID)
	ev.SetExtension(ExtRun, le.Run)
	ev.SetExtension(ExtWorkflowType, le.WorkflowType)
	ev.SetExtension(ExtTaskQueue, le.TaskQueue)
	if le.TraceParent != "" {
		ev.SetExtension(ExtTraceParent, le.TraceParent)
	}
	var data json.RawMessage
	switch {
	case le.Kind == orchestrator.LifecycleCompleted:
		data = le.Result
		if len(data) == 0 {
			data = json.RawMessage("null")
		}
	case le.Failure != nil:
		data, _ = json.Marshal(le.Failure)
	case le.Kind == orchestrator.LifecycleTimedOut:
		data, _ = json.Marshal(&history.Failure{Type: history.FailureTimeout, Message: "workflow execution timed out",
			Details: json.RawMessage(`{"kind":"execution"}`)})
	}
	if data != nil {
		_ = ev.SetData(event.ApplicationJSON, []byte(data))
	}
	return &ev
}

// Publish publishes le; it has the signature orchestrator.WithLifecycle
// expects. Publishing is core NATS (at most once per report; reports are at
// least once): subscribers that must not miss any can capture the subjects
// in a stream of their own.
func (p *LifecyclePublisher) Publish(ctx context.Context, le orchestrator.LifecycleEvent) {
	ev := p.Event(le)
	msg, err := NewNATSMsg(ctx, LifecycleSubject(p.ns, le.Kind, le.WorkflowType), ev, false)
	if err != nil {
		p.log.Warn("lifecycle event not encoded", "workflow_id", le.WorkflowID, "kind", le.Kind, "error", err)
		return
	}
	if err := p.nc.PublishMsg(msg); err != nil {
		p.log.Warn("lifecycle event not published", "workflow_id", le.WorkflowID, "kind", le.Kind, "error", err)
	}
}
