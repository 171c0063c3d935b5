package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// W3C trace context header names, used on NATS messages as they are on HTTP.
const (
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
)

var w3c = propagation.TraceContext{}

// ParseTraceParent parses a W3C traceparent (and optional tracestate) into a
// remote span context.
func ParseTraceParent(traceParent, traceState string) (trace.SpanContext, bool) {
	if traceParent == "" {
		return trace.SpanContext{}, false
	}
	carrier := propagation.MapCarrier{HeaderTraceParent: traceParent}
	if traceState != "" {
		carrier[HeaderTraceState] = traceState
	}
	sc := trace.SpanContextFromContext(w3c.Extract(context.Background(), carrier))
	return sc, sc.IsValid()
}

// ContextWithTraceParent returns ctx with the remote parent traceParent
// names; ctx itself when traceParent is empty or invalid.
func ContextWithTraceParent(ctx context.Context, traceParent, traceState string) context.Context {
	if sc, ok := ParseTraceParent(traceParent, traceState); ok {
		return trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return ctx
}

// TraceParent formats the span context of ctx as a W3C traceparent and
// tracestate; empty strings when ctx holds no valid span context.
func TraceParent(ctx context.Context) (traceParent, traceState string) {
	return FormatSpanContext(trace.SpanContextFromContext(ctx))
}

// FormatSpanContext formats sc as a W3C traceparent and tracestate.
func FormatSpanContext(sc trace.SpanContext) (traceParent, traceState string) {
	if !sc.IsValid() {
		return "", ""
	}
	carrier := propagation.MapCarrier{}
	w3c.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	return carrier[HeaderTraceParent], carrier[HeaderTraceState]
}
