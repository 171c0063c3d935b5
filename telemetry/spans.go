package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/history"
)

// Span names. Each is "<Kind> <type or name>", low in cardinality: ids are
// attributes.
const (
	SpanStartWorkflow = "StartWorkflow"
	SpanWorkflow      = "Workflow"
	SpanWorkflowTask  = "WorkflowTask"
	SpanActivity      = "Activity"
	SpanTimer         = "Timer"
	SpanSignal        = "Signal"
	SpanCallback      = "Callback"
)

func spanName(kind, name string) string {
	if name == "" {
		return kind
	}
	return kind + " " + name
}

func runAttrs(ns string, ws *history.WorkflowStarted) []attribute.KeyValue {
	return []attribute.KeyValue{
		AttrNamespace.String(ns),
		AttrWorkflowID.String(ws.WorkflowID),
		AttrWorkflowType.String(ws.WorkflowType),
		AttrRun.String(ws.Run),
		AttrTaskQueue.String(ws.TaskQueue),
	}
}

// ExecutionContext returns ctx with the run's execution span as remote
// parent: spans started from it belong to the run's trace.
func ExecutionContext(ctx context.Context, ws *history.WorkflowStarted) context.Context {
	return trace.ContextWithRemoteSpanContext(ctx, ExecutionSpanContext(ws.WorkflowID, ws.Run, ws.TraceParent))
}

// StartWorkflowStart starts the span of a client's start call, a child of
// ctx's span (the caller's trace continues). destination is the inbox
// subject the start wake goes to.
func (t *Telemetry) StartWorkflowStart(ctx context.Context, namespace, workflowID, workflowType, queue, destination string) (context.Context, trace.Span) {
	return t.Tracer().Start(ctx, spanName(SpanStartWorkflow, workflowType),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(MessagingSystemNATS, AttrMessagingDestination.String(destination), AttrMessagingOperation.String("send"),
			AttrNamespace.String(namespace), AttrWorkflowID.String(workflowID), AttrWorkflowType.String(workflowType),
			AttrTaskQueue.String(queue)))
}

// StartWorkflowTask starts the span of a live workflow task of the run ws,
// begun at begin, as a child of the run's execution span. destination is the
// inbox subject; links point at the spans that sent the task's messages.
func (t *Telemetry) StartWorkflowTask(ctx context.Context, namespace string, ws *history.WorkflowStarted, destination string,
	begin time.Time, links []trace.Link) (context.Context, trace.Span) {
	attrs := append(runAttrs(namespace, ws), MessagingSystemNATS, AttrMessagingDestination.String(destination),
		AttrMessagingOperation.String("process"))
	return t.Tracer().Start(ExecutionContext(ctx, ws), spanName(SpanWorkflowTask, ws.WorkflowType),
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithTimestamp(begin), trace.WithLinks(links...),
		trace.WithAttributes(attrs...))
}

// EmitExecution emits the execution span of a closed run: start is the
// start event's time, closeEv the event that closed it. The span gets the
// run's deterministic ids, which the spans of its tasks, activities and
// timers already name as their parent. Call it once per run, from the
// process that committed (or first handled) the close.
func (t *Telemetry) EmitExecution(ctx context.Context, namespace string, ws *history.WorkflowStarted, start time.Time, closeEv *history.Event) {
	if t == nil || closeEv == nil {
		return
	}
	want := ExecutionSpanContext(ws.WorkflowID, ws.Run, ws.TraceParent)
	// Not a child of whatever ctx holds (the closing task): its parent is
	// the start's span, or none.
	pctx := trace.ContextWithSpanContext(ctx, trace.SpanContext{})
	if sc, ok := ParseTraceParent(ws.TraceParent, ""); ok {
		pctx = trace.ContextWithRemoteSpanContext(pctx, sc)
	}
	pctx = withSpanIDs(pctx, want.TraceID(), want.SpanID())
	status := string(history.StatusOf(closeEv))
	attrs := append(runAttrs(namespace, ws), AttrWorkflowStatus.String(status), AttrEventSeq.Int64(closeEv.Seq))
	_, span := t.tracer.Start(pctx, spanName(SpanWorkflow, ws.WorkflowType), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	if !span.IsRecording() {
		return
	}
	if got := span.SpanContext(); got.TraceID() != want.TraceID() || got.SpanID() != want.SpanID() {
		// The provider does not use IDGenerator: this span would not be the
		// parent its children name. Leaving it unended drops it.
		t.badIDsOnce.Do(func() {
			t.log.Warn("telemetry: the tracer provider does not use telemetry.IDGenerator; workflow execution spans are not emitted")
		})
		return
	}
	if f := history.CloseFailure(closeEv); f != nil {
		RecordFailure(span, f.Type, f.Message)
	}
	span.End(trace.WithTimestamp(closeEv.Time))
}

// Timer is what EmitTimer needs of a fired timer.
type Timer struct {
	ID   int64
	Name string
	// Seq is the sequence of the TimerFired event.
	Seq int64
	// Started is when the timer was started (its TimerStarted event's
	// time), FireAt its due time and Fired when the fire was taken in.
	Started, FireAt, Fired time.Time
	// TraceParent is the span of the workflow task that (last) scheduled
	// the timer; the timer's span links to it.
	TraceParent string
}

// EmitTimer emits the span of a timer, from its start to its fire, as a
// child of the run's execution span (a timer outlives the task that started
// it, and may be re-armed by another one after a restart).
func (t *Telemetry) EmitTimer(ctx context.Context, namespace string, ws *history.WorkflowStarted, tm Timer) {
	if t == nil {
		return
	}
	pctx := ExecutionContext(trace.ContextWithSpanContext(ctx, trace.SpanContext{}), ws)
	attrs := append(runAttrs(namespace, ws), AttrTimerID.Int64(tm.ID), AttrEventSeq.Int64(tm.Seq))
	if tm.Name != "" {
		attrs = append(attrs, AttrTimerName.String(tm.Name))
	}
	if !tm.FireAt.IsZero() {
		attrs = append(attrs, AttrTimerLateness.Int64(tm.Fired.Sub(tm.FireAt).Milliseconds()),
			attribute.String("cairn.timer.fire_at", tm.FireAt.UTC().Format(time.RFC3339Nano)))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithTimestamp(tm.Started), trace.WithAttributes(attrs...)}
	if l, ok := LinkTo(tm.TraceParent, ""); ok {
		opts = append(opts, trace.WithLinks(l))
	}
	_, span := t.tracer.Start(pctx, spanName(SpanTimer, tm.Name), opts...)
	span.End(trace.WithTimestamp(tm.Fired))
}

// EmitSignal emits the span of an external event recorded by the workflow
// task of ctx, linked to the span that raised it, if known.
func (t *Telemetry) EmitSignal(ctx context.Context, name string, seq int64, at time.Time, links []trace.Link) {
	if t == nil {
		return
	}
	_, span := t.tracer.Start(ctx, spanName(SpanSignal, name), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(at), trace.WithLinks(links...),
		trace.WithAttributes(MessagingSystemNATS, AttrMessagingOperation.String("process"), AttrSignalName.String(name),
			AttrEventSeq.Int64(seq)))
	span.End()
}

// EmitCallback emits the span of a callback completion, failure or
// heartbeat recorded by the workflow task of ctx, linked to the span of the
// party that sent it, if known.
func (t *Telemetry) EmitCallback(ctx context.Context, name, outcome string, seq int64, at time.Time, links []trace.Link) {
	if t == nil {
		return
	}
	_, span := t.tracer.Start(ctx, spanName(SpanCallback, name), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(at), trace.WithLinks(links...),
		trace.WithAttributes(MessagingSystemNATS, AttrMessagingOperation.String("process"), AttrCallbackOutcome.String(outcome),
			AttrEventSeq.Int64(seq)))
	span.End()
}

// StartActivity starts the span of an activity attempt as a child of the
// workflow task that scheduled it (the task message's trace context), or of
// the run's execution span when the message carries none. subject is the
// task subject the attempt was received on; traceParent and traceState
// are the task message's W3C trace context.
func (t *Telemetry) StartActivity(ctx context.Context, a *history.ActivityAttempt, subject, traceParent, traceState string, begin time.Time) (context.Context, trace.Span) {
	pctx := ContextWithTraceParent(ctx, traceParent, traceState)
	if !trace.SpanContextFromContext(pctx).IsRemote() {
		pctx = trace.ContextWithRemoteSpanContext(ctx, ExecutionSpanContext(a.WorkflowID, a.Run, ""))
	}
	return t.Tracer().Start(pctx, spanName(SpanActivity, a.ActivityType), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(begin),
		trace.WithAttributes(MessagingSystemNATS, AttrMessagingDestination.String(subject), AttrMessagingOperation.String("process"),
			AttrNamespace.String(a.Namespace), AttrWorkflowID.String(a.WorkflowID), AttrWorkflowType.String(a.WorkflowType),
			AttrRun.String(a.Run), AttrTaskQueue.String(a.Queue), AttrActivityType.String(a.ActivityType),
			AttrActivityID.String(a.ActivityID), AttrActivityAttempt.Int(a.Attempt), AttrDeliveries.Int(a.Deliveries)))
}

// RecordFailure marks span as failed: error.type, an error status and an
// exception event.
func RecordFailure(span trace.Span, errorType, message string) {
	if !span.IsRecording() {
		return
	}
	if errorType == "" {
		errorType = "_OTHER"
	}
	span.SetAttributes(AttrErrorType.String(errorType))
	span.SetStatus(codes.Error, message)
	span.AddEvent("exception", trace.WithAttributes(
		attribute.String("exception.type", errorType), attribute.String("exception.message", message)))
}

// LinkTo returns a link to the span a W3C traceparent names; ok is false for
// an empty or invalid one.
func LinkTo(traceParent, traceState string) (trace.Link, bool) {
	sc, ok := ParseTraceParent(traceParent, traceState)
	if !ok {
		return trace.Link{}, false
	}
	return trace.Link{SpanContext: sc}, true
}
