package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/telemetry"
	"github.com/cairnhq/cairn/telemetry/otelsetup"
)

// defaultMetricsPort is where --metrics auto serves /metrics (the port
// OpenTelemetry's Prometheus exporters conventionally use).
const defaultMetricsPort = 9464

// devTelemetry is the OpenTelemetry setup of cairn dev: tracing and OTLP
// metrics as the OTEL_* environment says, and /metrics in Prometheus format.
type devTelemetry struct {
	providers  *otelsetup.Providers
	metricsURL string
	srv        *edgeServer
	log        *slog.Logger
}

// startTelemetry configures OpenTelemetry from the environment, installs it
// as the global providers (the demo worker and client use those), and
// serves /metrics on addr ("" for none), protected as edge says. It returns
// a logger that adds trace and span ids to records logged with a context.
func startTelemetry(ctx context.Context, addr string, explicit bool, edge httpEdge, log *slog.Logger) (*devTelemetry, error) {
	p, err := otelsetup.Setup(ctx, otelsetup.SetupOptions{Prometheus: addr != "", Global: true, Logger: log})
	if err != nil {
		return nil, err
	}
	dt := &devTelemetry{providers: p, log: slog.New(telemetry.NewLogHandler(log.Handler()))}
	if p.Tracing {
		log.Info("tracing on (OTEL_* environment)")
	}
	if h := p.MetricsHandler(); h != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", h)
		srv, err := edge.serve("metrics endpoint", addr, mux, log)
		if err != nil {
			if explicit {
				_ = p.Shutdown(ctx)
				return nil, fmt.Errorf("--metrics %s: %w", addr, err)
			}
			log.Warn("metrics endpoint not served", "address", addr, "error", err)
			return dt, nil
		}
		dt.srv, dt.metricsURL = srv, srv.url+"/metrics"
		log.Debug("metrics endpoint ready", "url", dt.metricsURL)
	}
	return dt, nil
}

// stop stops serving metrics and flushes spans and metrics.
func (dt *devTelemetry) stop() {
	if dt.srv != nil {
		dt.srv.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := dt.providers.Shutdown(ctx); err != nil {
		dt.log.Warn("flushing telemetry failed", "error", err)
	}
}

// resolveMetrics maps --metrics to a listen address: auto is HOST:9464 (a
// free port with --port -1), off none. explicit tells whether failing to
// listen is an error.
func resolveMetrics(flagValue, host string, anyPort bool) (addr string, explicit bool) {
	switch flagValue {
	case "off", "":
		return "", false
	case "auto":
		if anyPort {
			return net.JoinHostPort(host, "0"), false
		}
		return net.JoinHostPort(host, fmt.Sprint(defaultMetricsPort)), false
	}
	return flagValue, true
}

func printTelemetryBanner(w io.Writer, dt *devTelemetry) {
	if dt.metricsURL != "" {
		fmt.Fprintf(w, "Metrics (Prometheus format): %s\n", dt.metricsURL)
	}
	if dt.providers.Tracing {
		fmt.Fprintln(w, "Traces: exported as OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_TRACES_EXPORTER say (see README, \"View traces in Jaeger\")")
	}
}
