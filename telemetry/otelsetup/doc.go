// Package otelsetup builds OpenTelemetry SDK providers for cairn's
// processes from the standard OTEL_* environment (OTLP over gRPC or HTTP,
// the console exporter) and serves their metrics in the Prometheus text
// format.
//
// It is the only cairn package that links OpenTelemetry exporters, so that
// worker and workflow code, which import telemetry, link none. It imports
// telemetry and the OpenTelemetry SDK; only commands (cmd/) and test
// tooling import it.
package otelsetup
