package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/cairnhq/cairn/telemetry"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME (or
// SetupOptions.ServiceName) says otherwise.
const DefaultServiceName = "cairn"

// SetupOptions tune Setup.
type SetupOptions struct {
	// ServiceName is the default service.name; OTEL_SERVICE_NAME and
	// service.name in OTEL_RESOURCE_ATTRIBUTES win. Default "cairn".
	ServiceName string
	// Attributes are added to the resource (OTEL_RESOURCE_ATTRIBUTES wins
	// for the same keys).
	Attributes []attribute.KeyValue
	// Prometheus makes metrics available in Prometheus text format from
	// Providers.MetricsHandler, whatever OTEL_METRICS_EXPORTER says
	// (setting it to "prometheus" has the same effect).
	Prometheus bool
	// Global installs the providers and the W3C trace context propagator as
	// the OpenTelemetry globals.
	Global bool
	// Console is where OTEL_TRACES_EXPORTER=console writes (default
	// os.Stderr).
	Console io.Writer
	// Logger receives warnings about the configuration and export errors.
	Logger *slog.Logger
}

// Providers are the tracer and meter providers Setup configured. The
// providers are no-ops for signals that are not exported.
type Providers struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Tracing and Metrics tell whether each signal goes anywhere.
	Tracing, Metrics bool

	metricsHandler http.Handler
	shutdown       []func(context.Context) error
	log            *slog.Logger
}

// MetricsHandler serves the metrics in Prometheus text format; nil unless
// Prometheus was asked for.
func (p *Providers) MetricsHandler() http.Handler { return p.metricsHandler }

// Telemetry returns the cairn telemetry.Telemetry of the providers.
func (p *Providers) Telemetry() *telemetry.Telemetry {
	return telemetry.New(telemetry.Options{TracerProvider: p.TracerProvider, MeterProvider: p.MeterProvider, Logger: p.log})
}

// Shutdown flushes pending spans and metrics and stops the exporters.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(p.shutdown) - 1; i >= 0; i-- {
		errs = append(errs, p.shutdown[i](ctx))
	}
	p.shutdown = nil
	return errors.Join(errs...)
}

// Setup configures tracing and metrics from the standard OpenTelemetry
// environment variables:
//
//   - OTEL_SDK_DISABLED=true turns everything off.
//   - OTEL_EXPORTER_OTLP_ENDPOINT (or the _TRACES_/_METRICS_ variants) turns
//     OTLP export of traces and metrics on; OTEL_EXPORTER_OTLP_PROTOCOL is
//     http/protobuf (default, port 4318) or grpc (port 4317).
//     OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE and
//     _INSECURE are honoured by the exporters.
//   - OTEL_TRACES_EXPORTER: otlp, console or none (default otlp when an
//     endpoint is set, else none). OTEL_METRICS_EXPORTER: otlp, prometheus
//     or none (same default).
//   - OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES: the resource.
//   - OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_BSP_*,
//     OTEL_METRIC_EXPORT_INTERVAL: honoured by the SDK.
//
// Call Shutdown before the process exits so buffered spans are sent.
func Setup(ctx context.Context, o SetupOptions) (*Providers, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ServiceName == "" {
		o.ServiceName = DefaultServiceName
	}
	if o.Console == nil {
		o.Console = os.Stderr
	}
	p := &Providers{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider(), log: o.Logger}
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		if o.Prometheus {
			p.metricsHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", prometheusContentType)
			})
		}
		return p, nil
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(append([]attribute.KeyValue{attribute.String("service.name", o.ServiceName)}, o.Attributes...)...),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost(), resource.WithProcessPID(),
		resource.WithProcessRuntimeName(), resource.WithProcessRuntimeVersion())
	if err != nil && res == nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	endpointSet := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""

	fail := func(err error) (*Providers, error) {
		_ = p.Shutdown(ctx)
		return nil, err
	}

	// Traces.
	var tpOpts []sdktrace.TracerProviderOption
	for _, name := range exporters("OTEL_TRACES_EXPORTER", endpointSet || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "") {
		var exp sdktrace.SpanExporter
		switch name {
		case "otlp":
			switch proto := protocol("TRACES"); proto {
			case "grpc":
				exp, err = otlptracegrpc.New(ctx)
			case "http/protobuf":
				exp, err = otlptracehttp.New(ctx)
			default:
				err = fmt.Errorf("OTLP protocol %q is not supported (use http/protobuf or grpc)", proto)
			}
		case "console":
			exp, err = stdouttrace.New(stdouttrace.WithWriter(o.Console))
		default:
			err = fmt.Errorf("OTEL_TRACES_EXPORTER %q is not supported (use otlp, console or none)", name)
		}
		if err != nil {
			return fail(fmt.Errorf("telemetry: traces exporter: %w", err))
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	}
	if len(tpOpts) > 0 {
		tp := telemetry.NewTracerProvider(append(tpOpts, sdktrace.WithResource(res))...)
		p.TracerProvider, p.Tracing = tp, true
		p.shutdown = append(p.shutdown, tp.Shutdown)
	}

	// Metrics.
	var mpOpts []sdkmetric.Option
	prom := o.Prometheus
	for _, name := range exporters("OTEL_METRICS_EXPORTER", endpointSet || os.Getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != "") {
		var exp sdkmetric.Exporter
		switch name {
		case "otlp":
			switch proto := protocol("METRICS"); proto {
			case "grpc":
				exp, err = otlpmetricgrpc.New(ctx)
			case "http/protobuf":
				exp, err = otlpmetrichttp.New(ctx)
			default:
				err = fmt.Errorf("OTLP protocol %q is not supported (use http/protobuf or grpc)", proto)
			}
		case "prometheus":
			prom = true
			continue
		default:
			err = fmt.Errorf("OTEL_METRICS_EXPORTER %q is not supported (use otlp, prometheus or none)", name)
		}
		if err != nil {
			return fail(fmt.Errorf("telemetry: metrics exporter: %w", err))
		}
		mpOpts = append(mpOpts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	}
	var manual *sdkmetric.ManualReader
	if prom {
		manual = sdkmetric.NewManualReader()
		mpOpts = append(mpOpts, sdkmetric.WithReader(manual))
	}
	if len(mpOpts) > 0 {
		mp := sdkmetric.NewMeterProvider(append(mpOpts, sdkmetric.WithResource(res))...)
		p.MeterProvider, p.Metrics = mp, true
		p.shutdown = append(p.shutdown, mp.Shutdown)
		if manual != nil {
			p.metricsHandler = PrometheusHandler(manual)
		}
	}

	if o.Global {
		otel.SetTracerProvider(p.TracerProvider)
		otel.SetMeterProvider(p.MeterProvider)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			o.Logger.Warn("opentelemetry", "error", err)
		}))
	}
	return p, nil
}

// exporters reads a comma-separated exporter list; unset means otlp when an
// endpoint is configured, else none.
func exporters(env string, endpoint bool) []string {
	v := strings.TrimSpace(os.Getenv(env))
	if v == "" {
		if endpoint {
			return []string{"otlp"}
		}
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && s != "none" {
			out = append(out, s)
		}
	}
	return out
}

func protocol(signal string) string {
	if v := strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL")); v != "" {
		return v
	}
	if v := strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")); v != "" {
		return v
	}
	return "http/protobuf"
}
