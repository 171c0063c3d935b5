package telemetry

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ExecutionSpanContext returns the span context of a run's execution span,
// derived only from what the run's start event records, so every process
// computes the same one: the trace id of traceParent (the start's W3C trace
// context) or, without a valid one, a hash of workflowID and run; the span id
// is a hash of workflowID and run. The trace flags are the traceparent's
// (sampled without one). The context is marked remote: it is a parent, never
// a span of this process.
func ExecutionSpanContext(workflowID, run, traceParent string) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceFlags: trace.FlagsSampled, Remote: true}
	if sc, ok := ParseTraceParent(traceParent, ""); ok {
		cfg.TraceID, cfg.TraceFlags, cfg.TraceState = sc.TraceID(), sc.TraceFlags(), sc.TraceState()
	} else {
		cfg.TraceID = DerivedTraceID(workflowID, run)
	}
	cfg.SpanID = ExecutionSpanID(workflowID, run)
	return trace.NewSpanContext(cfg)
}

// DerivedTraceID is the trace id of a run started without trace context.
func DerivedTraceID(workflowID, run string) trace.TraceID {
	h := fnv.New128a()
	h.Write([]byte("cairn/trace/"))
	h.Write([]byte(workflowID))
	h.Write([]byte{0})
	h.Write([]byte(run))
	var id trace.TraceID
	h.Sum(id[:0])
	if !id.IsValid() {
		id[15] = 1
	}
	return id
}

// ExecutionSpanID is the span id of a run's execution span.
func ExecutionSpanID(workflowID, run string) trace.SpanID {
	h := fnv.New64a()
	h.Write([]byte("cairn/execution/"))
	h.Write([]byte(workflowID))
	h.Write([]byte{0})
	h.Write([]byte(run))
	var id trace.SpanID
	binary.BigEndian.PutUint64(id[:], h.Sum64())
	if !id.IsValid() {
		id[7] = 1
	}
	return id
}

// forcedIDs asks IDGenerator for given ids for the next span started with
// the context.
type forcedIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

type forcedIDsKey struct{}

// withSpanIDs makes the next span started with ctx take spanID (and traceID,
// if it is a root span) when the provider uses IDGenerator.
func withSpanIDs(ctx context.Context, traceID trace.TraceID, spanID trace.SpanID) context.Context {
	return context.WithValue(ctx, forcedIDsKey{}, forcedIDs{trace: traceID, span: spanID})
}

// IDGenerator returns the id generator cairn needs in a tracer provider
// (sdktrace.WithIDGenerator): random ids, except for the deterministic ids
// of execution spans. NewTracerProvider and otelsetup.Setup install it; add it
// yourself to a provider you build.
func IDGenerator() sdktrace.IDGenerator { return idGenerator{} }

type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if f, ok := ctx.Value(forcedIDsKey{}).(forcedIDs); ok && f.trace.IsValid() && f.span.IsValid() {
		return f.trace, f.span
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
		binary.BigEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, randomSpanID()
}

func (idGenerator) NewSpanID(ctx context.Context, traceID trace.TraceID) trace.SpanID {
	if f, ok := ctx.Value(forcedIDsKey{}).(forcedIDs); ok && f.span.IsValid() && (!f.trace.IsValid() || f.trace == traceID) {
		return f.span
	}
	return randomSpanID()
}

func randomSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}

// NewTracerProvider returns an SDK tracer provider with IDGenerator, which
// cairn's execution spans need; opts come after it, so they may add
// processors, a resource, a sampler...
func NewTracerProvider(opts ...sdktrace.TracerProviderOption) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithIDGenerator(IDGenerator())}, opts...)...)
}
