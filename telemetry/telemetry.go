package telemetry

import (
	"context"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of cairn's tracer and meter.
const ScopeName = "github.com/cairnhq/cairn"

// Attribute keys. The messaging.* and error.type keys follow the
// OpenTelemetry semantic conventions; cairn.* keys are cairn's own.
const (
	AttrMessagingSystem      = attribute.Key("messaging.system")
	AttrMessagingDestination = attribute.Key("messaging.destination.name")
	AttrMessagingOperation   = attribute.Key("messaging.operation.type")
	AttrMessagingMessageID   = attribute.Key("messaging.message.id")
	AttrErrorType            = attribute.Key("error.type")

	AttrNamespace       = attribute.Key("cairn.namespace")
	AttrTaskQueue       = attribute.Key("cairn.task_queue")
	AttrWorkflowID      = attribute.Key("cairn.workflow.id")
	AttrWorkflowType    = attribute.Key("cairn.workflow.type")
	AttrRun             = attribute.Key("cairn.workflow.run")
	AttrWorkflowStatus  = attribute.Key("cairn.workflow.status")
	AttrEventSeq        = attribute.Key("cairn.event.seq")
	AttrEventCount      = attribute.Key("cairn.event.count")
	AttrActivityType    = attribute.Key("cairn.activity.type")
	AttrActivityID      = attribute.Key("cairn.activity.id")
	AttrActivityAttempt = attribute.Key("cairn.activity.attempt")
	AttrDeliveries      = attribute.Key("cairn.delivery.count")
	AttrTimerID         = attribute.Key("cairn.timer.id")
	AttrTimerName       = attribute.Key("cairn.timer.name")
	AttrTimerLateness   = attribute.Key("cairn.timer.lateness_ms")
	AttrSignalName      = attribute.Key("cairn.signal.name")
	AttrCallbackOutcome = attribute.Key("cairn.callback.outcome")
	AttrTaskOutcome     = attribute.Key("cairn.task.outcome")
	AttrCacheResult     = attribute.Key("cairn.cache.result")
	AttrOutcome         = attribute.Key("cairn.outcome")
)

// MessagingSystemNATS is the messaging.system attribute of every cairn span
// that handles a NATS message.
var MessagingSystemNATS = AttrMessagingSystem.String("nats")

// Options configure New. Nil providers mean the global ones
// (otel.GetTracerProvider, otel.GetMeterProvider).
type Options struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Logger receives telemetry's own warnings; nil discards them.
	Logger *slog.Logger
}

// Telemetry holds cairn's tracer and metric instruments. A nil *Telemetry is
// valid and does nothing; every method is safe on it and for concurrent use.
type Telemetry struct {
	tracer trace.Tracer
	meter  metric.Meter
	m      instruments
	log    *slog.Logger

	badIDsOnce sync.Once
}

// New returns the Telemetry of the given providers.
func New(o Options) *Telemetry {
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.MeterProvider == nil {
		o.MeterProvider = otel.GetMeterProvider()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Telemetry{
		tracer: o.TracerProvider.Tracer(ScopeName),
		meter:  o.MeterProvider.Meter(ScopeName),
		log:    o.Logger,
	}
	t.m = newInstruments(t.meter, t.log)
	return t
}

// Tracer returns cairn's tracer (a no-op one on a nil Telemetry).
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil {
		return noopTracer
	}
	return t.tracer
}

// Meter returns cairn's meter (a no-op one on a nil Telemetry).
func (t *Telemetry) Meter() metric.Meter {
	if t == nil {
		return noopMeter
	}
	return t.meter
}

// Recording reports whether ctx holds a span that records: the cheap test
// that guards work done only for tracing.
func Recording(ctx context.Context) bool {
	return trace.SpanFromContext(ctx).IsRecording()
}
