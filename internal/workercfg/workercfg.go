// Package workercfg holds the configuration of an sdk/worker Worker.
// sdk/worker's Option is a func over Options, so this package can also
// make options that the public package does not offer: Engine passes
// orchestrator options straight to the workflow engine, for cairn's own
// wiring (the lifecycle publisher of `cairn dev`, tests) only.
package workercfg

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/sdk/converter"
)

// Options is what sdk/worker's options set.
type Options struct {
	Namespace           string
	DataConverter       converter.DataConverter
	Logger              *slog.Logger
	Engine              []orchestrator.Option
	ActivityConcurrency int
	BuildID             string
	Heartbeat           time.Duration
	TracerProvider      trace.TracerProvider
	MeterProvider       metric.MeterProvider
	NoTelemetry         bool
	// Replicas is the replica count Run provisions the namespace with; 0
	// keeps what exists (one for what it creates).
	Replicas int
}

// Engine returns a worker option (it is assignable to worker.Option) that
// appends opts to the options of the worker's workflow engine.
func Engine(opts ...orchestrator.Option) func(*Options) error {
	return func(o *Options) error {
		o.Engine = append(o.Engine, opts...)
		return nil
	}
}
