package otelsetup

import (
	"bufio"
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/telemetry"
)

func TestPrometheusHandler(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "svc"))))
	tel := telemetry.New(telemetry.Options{MeterProvider: mp})
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
		!strings.Contains(out, telemetry.ExecutionSpanID("wf", "r").String()) {
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

var timeZero = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
