package worker

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/sdk/converter"
)

// Option configures a Worker.
type Option func(*options)

type options struct {
	namespace           string
	dc                  converter.DataConverter
	logger              *slog.Logger
	orchestrator        []orchestrator.Option
	activityConcurrency int
	buildID             string
	heartbeat           time.Duration
	tracerProvider      trace.TracerProvider
	meterProvider       metric.MeterProvider
	noTelemetry         bool
}

// WithNamespace selects the namespace (default "default").
func WithNamespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// WithDataConverter replaces the JSON payload converter. Clients and every
// worker of a namespace must use the same one.
func WithDataConverter(dc converter.DataConverter) Option { return func(o *options) { o.dc = dc } }

// WithLogger sets the logger of the worker and of workflow code.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithOrchestratorOptions tunes the workflow engine (cache size, shards,
// park retry...).
func WithOrchestratorOptions(opts ...orchestrator.Option) Option {
	return func(o *options) { o.orchestrator = append(o.orchestrator, opts...) }
}

// WithRetention sets how long the runs this worker closes are kept
// (history and summary) before they are purged: default
// orchestrator.DefaultRetention (7 days); d <= 0 keeps them forever.
func WithRetention(d time.Duration) Option {
	return func(o *options) { o.orchestrator = append(o.orchestrator, orchestrator.WithRetention(d)) }
}

// WithActivityConcurrency bounds concurrent executions per activity type
// (default 64).
func WithActivityConcurrency(n int) Option { return func(o *options) { o.activityConcurrency = n } }

// WithTracerProvider sets where the worker's spans go (a span per workflow
// task, per activity attempt, per timer, and one per workflow execution).
// The default is the global provider (otel.GetTracerProvider), a no-op
// unless the application installed one. The provider must use
// telemetry.IDGenerator for execution spans to be emitted (providers made
// by telemetry.NewTracerProvider and otelsetup.Setup do).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithMeterProvider sets where the worker's metrics go (docs/observability.md
// lists them). The default is the global provider (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meterProvider = mp }
}

// WithoutTelemetry turns traces and metrics off entirely, whatever the
// global providers are.
func WithoutTelemetry() Option { return func(o *options) { o.noTelemetry = true } }

// WithBuildID labels the worker's code version in its heartbeat.
func WithBuildID(id string) Option { return func(o *options) { o.buildID = id } }

// RegisterOption configures one registration.
type RegisterOption func(*registration)

type registration struct {
	name             string
	heartbeatTimeout time.Duration
	concurrency      int
}

// WithName registers under an explicit name instead of the function's.
func WithName(name string) RegisterOption { return func(r *registration) { r.name = name } }

// WithHeartbeatTimeout declares that the activity calls
// activity.RecordHeartbeat at least this often: a worker that stops doing
// so (it died or hangs) loses the task, which is redelivered to another
// worker after this timeout. Without it, the worker process heartbeats for
// the activity while it runs.
func WithHeartbeatTimeout(d time.Duration) RegisterOption {
	return func(r *registration) { r.heartbeatTimeout = d }
}

// WithConcurrency bounds concurrent executions of this activity type.
func WithConcurrency(n int) RegisterOption { return func(r *registration) { r.concurrency = n } }
