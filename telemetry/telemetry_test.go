package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
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
	if _, span := tel.StartActivity(ctx, &Attempt{}, timeZero); span.IsRecording() {
		t.Fatal("nil telemetry records")
	}
}

func TestPrometheusHandler(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "svc"))))
	tel := New(Options{MeterProvider: mp})
	ctx := context.Background()
	tel.WorkflowStarted(ctx, "Order", "default")
	tel.WorkflowStarted(ctx, "Order", "default")
	tel.WorkflowClosed(ctx, "Order", "default", "timed_out")
	tel.WorkflowTask(ctx, "Order", "default", "committed", 3_000_000) // 3 ms
	stop := tel.ObserveCacheSize("default", func() int { return 42 })
	defer stop()
	rec := httptest.NewRecorder()
	PrometheusHandler(reader).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	for _, want := range []string{
		`target_info{service_name="svc"} 1`,
		"# TYPE cairn_workflow_started_total counter",
		`cairn_workflow_started_total{cairn_task_queue="default",cairn_workflow_type="Order"} 2`,
		`cairn_workflow_failed_total{cairn_task_queue="default",cairn_workflow_status="timed_out",cairn_workflow_type="Order"} 1`,
		"# TYPE cairn_workflow_task_duration_seconds histogram",
		`cairn_workflow_task_duration_seconds_bucket{cairn_task_outcome="committed",cairn_task_queue="default",cairn_workflow_type="Order",le="0.0025"} 0`,
		`cairn_workflow_task_duration_seconds_bucket{cairn_task_outcome="committed",cairn_task_queue="default",cairn_workflow_type="Order",le="0.005"} 1`,
		`cairn_workflow_task_duration_seconds_bucket{cairn_task_outcome="committed",cairn_task_queue="default",cairn_workflow_type="Order",le="+Inf"} 1`,
		`cairn_workflow_task_duration_seconds_count{cairn_task_outcome="committed",cairn_task_queue="default",cairn_workflow_type="Order"} 1`,
		"# TYPE cairn_cache_size gauge",
		`cairn_cache_size{cairn_task_queue="default"} 42`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, body)
		}
	}
	if strings.Count(body, "# TYPE cairn_workflow_started_total") != 1 {
		t.Error("family declared twice")
	}
}

func TestPrometheusEscapingAndNames(t *testing.T) {
	rm := &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{{
		Name: "a.b-c", Unit: "By", Description: "line1\nline2 \\",
		Data: metricdata.Gauge[float64]{DataPoints: []metricdata.DataPoint[float64]{{
			Attributes: attribute.NewSet(attribute.String("k.x", "v\"\n\\")), Value: 1.5}}},
	}}}}}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	WritePrometheus(w, rm)
	w.Flush()
	want := "# HELP a_b_c_bytes line1\\nline2 \\\\\n# TYPE a_b_c_bytes gauge\na_b_c_bytes{k_x=\"v\\\"\\n\\\\\"} 1.5\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
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

func TestSetupFromEnvironment(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_METRICS_EXPORTER", "")
	p, err := Setup(context.Background(), SetupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Tracing || p.Metrics || p.MetricsHandler() != nil {
		t.Fatalf("nothing configured, yet tracing %v metrics %v", p.Tracing, p.Metrics)
	}

	var console bytes.Buffer
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	t.Setenv("OTEL_SERVICE_NAME", "svc-test")
	p, err = Setup(context.Background(), SetupOptions{Prometheus: true, Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Tracing || !p.Metrics || p.MetricsHandler() == nil {
		t.Fatalf("tracing %v metrics %v", p.Tracing, p.Metrics)
	}
	tel := p.Telemetry()
	ws := &history.WorkflowStarted{WorkflowID: "wf", Run: "r", WorkflowType: "T"}
	tel.EmitExecution(context.Background(), "ns", ws, timeZero, &history.Event{Seq: 2, Time: timeZero.Add(1),
		Type: history.TypeWorkflowCompleted, Attributes: &history.WorkflowCompleted{}})
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := console.String(); !strings.Contains(out, `"Workflow T"`) || !strings.Contains(out, "svc-test") ||
		!strings.Contains(out, ExecutionSpanID("wf", "r").String()) {
		t.Fatalf("console export:\n%s", out)
	}

	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	if _, err := Setup(context.Background(), SetupOptions{}); err == nil {
		t.Fatal("unknown exporter accepted")
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	if _, err := Setup(context.Background(), SetupOptions{}); err == nil {
		t.Fatal("unsupported protocol accepted")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	p, err = Setup(context.Background(), SetupOptions{Prometheus: true})
	if err != nil || p.Tracing || p.Metrics {
		t.Fatalf("disabled SDK: %v %v %v", err, p.Tracing, p.Metrics)
	}
}

var _ metric.Meter = New(Options{}).Meter()

var timeZero = mustTime("2026-01-02T03:04:05Z")
