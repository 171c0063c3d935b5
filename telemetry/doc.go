// Package telemetry is cairn's OpenTelemetry integration: tracer and meter
// setup from the standard OTEL_* environment variables, the deterministic
// span ids that make one trace per workflow execution possible across
// processes and restarts, span and attribute helpers, the engine's metric
// instruments, a log/slog handler that adds trace and span ids to log lines,
// and a Prometheus-format HTTP handler.
//
// # One trace per execution
//
// A run's execution span ("Workflow <type>") lasts from the run's start to
// its close, but no process lives that long for sure. Its ids are therefore
// derived from what history records: the trace id is the one of the start's
// W3C traceparent (recorded in WorkflowStarted), or, when the run was started
// without one, a hash of the workflow id and run; the span id is a hash of
// the workflow id and run. Every workflow task, activity attempt and timer
// span names that span as its parent, and whichever worker commits the close
// emits it once, with the start event's time as its start time. For that the
// tracer provider must use IDGenerator (NewTracerProvider and otelsetup.Setup do); with
// another generator the execution span is not emitted and a warning is
// logged once.
//
// Spans are only emitted for live work: a workflow task, an activity attempt,
// a timer or an external event committed by this process. Replaying history
// never emits a span.
//
// # Off by default, free when off
//
// Components take a *Telemetry; a nil one disables everything. With the
// global no-op providers (nothing configured) spans are not recording and the
// engine skips all work that only feeds them.
package telemetry
