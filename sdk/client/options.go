package client

import (
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/sdk/converter"
)

// Option configures a Client.
type Option func(*options)

type options struct {
	namespace  string
	dc         converter.DataConverter
	maxPayload int
	logger     *slog.Logger
	provision  bool
	// tracerProvider receives the spans of starts (nil: the global one).
	tracerProvider trace.TracerProvider
	// identity names the caller in operator events (pause, resume).
	identity string
}

// WithIdentity names this client in the events it causes an operator to
// record, such as WorkflowPaused (default: host name and process id).
func WithIdentity(id string) Option { return func(o *options) { o.identity = id } }

// WithNamespace selects the namespace (default "default").
func WithNamespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// WithDataConverter replaces the JSON payload converter.
func WithDataConverter(dc converter.DataConverter) Option { return func(o *options) { o.dc = dc } }

// WithMaxPayload sets the largest input accepted, in bytes (default: the
// server's max payload less room for headers).
func WithMaxPayload(n int) Option { return func(o *options) { o.maxPayload = n } }

// WithLogger sets the client's logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithTracerProvider sets where the client's spans go (a span per start,
// whose context the run's trace continues). The default is the global
// provider (otel.GetTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithoutProvisioning skips creating the namespace's streams and buckets;
// use it where they are managed by an operator.
func WithoutProvisioning() Option { return func(o *options) { o.provision = false } }
