package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/history"
)

const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func TestExecutionSpanContextIsDeterministic(t *testing.T) {
	a := ExecutionSpanContext("order-1", "run1", tp)
	b := ExecutionSpanContext("order-1", "run1", tp)
	if !a.Equal(b) || !a.IsValid() || !a.IsRemote() || !a.IsSampled() {
		t.Fatalf("%v vs %v", a, b)
	}
	if a.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("trace id %s is not the start's", a.TraceID())
	}
	if c := ExecutionSpanContext("order-1", "run2", tp); c.SpanID() == a.SpanID() {
		t.Fatal("two runs share an execution span id")
	}
	d := ExecutionSpanContext("order-1", "run1", "")
	if d.TraceID() != DerivedTraceID("order-1", "run1") || d.SpanID() != a.SpanID() || !d.IsSampled() {
		t.Fatalf("without traceparent: %v", d)
	}
	if DerivedTraceID("a/b", "c") == DerivedTraceID("a", "b/c") {
		t.Fatal("derived trace ids collide on the separator")
	}
	unsampled := ExecutionSpanContext("x", "y", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
	if unsampled.IsSampled() {
		t.Fatal("an unsampled start must not sample the run")
	}
}

func TestEmitExecutionTakesTheDeterministicIDs(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	prov := NewTracerProvider(sdktrace.WithSyncer(exp))
	tel := New(Options{TracerProvider: prov})
	ws := &history.WorkflowStarted{WorkflowID: "wf", Run: "r1", WorkflowType: "T", TaskQueue: "q", TraceParent: tp}
	ctx, task := tel.StartWorkflowTask(context.Background(), "ns", ws, "subj", timeZero.Add(1), nil)
	closeEv := &history.Event{Seq: 7, Time: timeZero.Add(5), Type: history.TypeWorkflowFailed,
		Attributes: &history.WorkflowFailed{Failure: &history.Failure{Type: "app.Boom", Message: "boom"}}}
	// Emitted from inside a task: the task must not become its parent.
	tel.EmitExecution(ctx, "ns", ws, timeZero, closeEv)
	task.End()
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	exec, tk := spans[0], spans[1]
	want := ExecutionSpanContext("wf", "r1", tp)
	if exec.SpanContext.SpanID() != want.SpanID() || exec.SpanContext.TraceID() != want.TraceID() {
		t.Fatalf("execution span %v, want %v", exec.SpanContext, want)
	}
	if exec.Parent.SpanID().String() != "b7ad6b7169203331" {
		t.Fatalf("execution parent %s, want the start's span", exec.Parent.SpanID())
	}
	if tk.Parent.SpanID() != want.SpanID() {
		t.Fatal("task is not a child of the execution span")
	}
	if !exec.StartTime.Equal(timeZero) || !exec.EndTime.Equal(closeEv.Time) {
		t.Fatalf("execution [%v, %v]", exec.StartTime, exec.EndTime)
	}
	var errType string
	for _, kv := range exec.Attributes {
		if kv.Key == AttrErrorType {
			errType = kv.Value.AsString()
		}
	}
	if errType != "app.Boom" || exec.Status.Description != "boom" {
		t.Fatalf("error.type %q status %v", errType, exec.Status)
	}
}

func TestEmitExecutionWithAForeignIDGenerator(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	prov := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)) // no IDGenerator
	var logs bytes.Buffer
	tel := New(Options{TracerProvider: prov, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ws := &history.WorkflowStarted{WorkflowID: "wf", Run: "r1", WorkflowType: "T"}
	ev := &history.Event{Seq: 2, Time: timeZero.Add(1), Type: history.TypeWorkflowCompleted, Attributes: &history.WorkflowCompleted{}}
	tel.EmitExecution(context.Background(), "ns", ws, timeZero, ev)
	tel.EmitExecution(context.Background(), "ns", ws, timeZero, ev)
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d execution spans with wrong ids emitted", n)
	}
	if strings.Count(logs.String(), "IDGenerator") != 1 {
		t.Fatalf("want one warning, got %q", logs.String())
	}
}

func TestNilTelemetryIsANoOp(t *testing.T) {
	var tel *Telemetry
	ctx := context.Background()
	tel.WorkflowStarted(ctx, "T", "q")
	tel.WorkflowClosed(ctx, "T", "q", "failed")
	tel.WorkflowTask(ctx, "T", "q", "committed", 1)
	tel.ActivityExecuted(ctx, "A", "q", "completed", "", 1)
	tel.EmitExecution(ctx, "ns", &history.WorkflowStarted{}, timeZero, &history.Event{})
	tel.EmitTimer(ctx, "ns", &history.WorkflowStarted{}, Timer{})
	tel.ObserveCacheSize("q", func() int { return 1 })()
	if _, span := tel.StartActivity(ctx, &history.ActivityAttempt{}, "", "", "", timeZero); span.IsRecording() {
		t.Fatal("nil telemetry records")
	}
}

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(slog.NewTextHandler(&buf, nil))).With("worker_id", "w")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: DerivedTraceID("a", "b"), SpanID: ExecutionSpanID("a", "b")})
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), sc), "hello")
	log.Info("plain")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.Contains(lines[0], "trace_id="+sc.TraceID().String()) || !strings.Contains(lines[0], "span_id="+sc.SpanID().String()) ||
		!strings.Contains(lines[0], "worker_id=w") {
		t.Fatalf("line %q", lines[0])
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Fatalf("line without a span has ids: %q", lines[1])
	}
}

var _ metric.Meter = New(Options{}).Meter()

var timeZero = mustTime("2026-01-02T03:04:05Z")
