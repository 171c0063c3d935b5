package main

import (
	"context"
	"errors"
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
	srv        *http.Server
	log        *slog.Logger
}

// startTelemetry configures OpenTelemetry from the environment, installs it
// as the global providers (the demo worker and client use those), and
// serves /metrics on addr ("" for none). It returns a logger that adds trace
// and span ids to records logged with a context.
func startTelemetry(ctx context.Context, addr string, explicit bool, log *slog.Logger) (*devTelemetry, error) {
	p, err := otelsetup.Setup(ctx, otelsetup.SetupOptions{Prometheus: addr != "", Global: true, Logger: log})
	if err != nil {
		return nil, err
	}
	dt := &devTelemetry{providers: p, log: slog.New(telemetry.NewLogHandler(log.Handler()))}
	if p.Tracing {
		log.Info("tracing on (OTEL_* environment)")
	}
	if h := p.MetricsHandler(); h != nil {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if explicit {
				_ = p.Shutdown(ctx)
				return nil, fmt.Errorf("--metrics %s: %w", addr, err)
			}
			log.Warn("metrics endpoint not served", "address", addr, "error", err)
			return dt, nil
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", h)
		dt.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		dt.metricsURL = "http://" + l.Addr().String() + "/metrics"
		go func() {
			if err := dt.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("metrics endpoint stopped", "error", err)
			}
		}()
		log.Debug("metrics endpoint ready", "url", dt.metricsURL)
	}
	return dt, nil
}

// stop stops serving metrics and flushes spans and metrics.
func (dt *devTelemetry) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if dt.srv != nil {
		_ = dt.srv.Shutdown(ctx)
	}
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
