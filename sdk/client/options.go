package client

import (
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/internal/optcheck"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/streams"
)

// ErrInvalidOption is wrapped by the error New returns for an option given
// an invalid value, and by the error of a call whose options struct holds
// one (StartOptions, ScheduleOptions); the message names the option and
// the value. It is the same value as worker.ErrInvalidOption and
// workflow.ErrInvalidOption. The errors of options structs also wrap
// ErrInvalidArgument.
var ErrInvalidOption = optcheck.ErrInvalidOption

// Option configures a Client. New applies the options in order and fails
// with an error wrapping ErrInvalidOption at the first invalid one.
type Option func(*options) error

type options struct {
	namespace  string
	dc         converter.DataConverter
	maxPayload int
	logger     *slog.Logger
	provision  bool
	// viaEngine: WithoutHistoryWrites.
	viaEngine bool
	// replicas is what New provisions the namespace with; 0 keeps what
	// exists (one for what it creates).
	replicas int
	// tracerProvider receives the spans of starts (nil: the global one).
	tracerProvider trace.TracerProvider
	// identity names the caller in operator events (pause, resume).
	identity string
}

// WithIdentity names this client in the events it causes an operator to
// record, such as WorkflowPaused (default: host name and process id); id
// must not be empty.
func WithIdentity(id string) Option {
	return func(o *options) error {
		if id == "" {
			return optcheck.Invalid("WithIdentity", id, "must not be empty")
		}
		o.identity = id
		return nil
	}
}

// WithNamespace selects the namespace (default "default"). ns must match
// [A-Za-z0-9_-]{1,64}, like every namespace.
func WithNamespace(ns string) Option {
	return func(o *options) error {
		if err := streams.ValidateNamespace(ns); err != nil {
			return optcheck.Invalid("WithNamespace", ns, "must match [A-Za-z0-9_-]{1,64}")
		}
		o.namespace = ns
		return nil
	}
}

// WithDataConverter replaces the JSON payload converter; dc must not be
// nil. Clients and every worker of a namespace must use the same one.
func WithDataConverter(dc converter.DataConverter) Option {
	return func(o *options) error {
		if dc == nil {
			return optcheck.Invalid("WithDataConverter", nil, "must not be nil")
		}
		o.dc = dc
		return nil
	}
}

// WithMaxPayload sets the largest input accepted, in bytes (default: the
// server's max payload less room for headers); n must be at least 1.
// Larger inputs fail with ErrPayloadTooLarge before anything is stored.
func WithMaxPayload(n int) Option {
	return func(o *options) error {
		if err := optcheck.AtLeast1("WithMaxPayload", n); err != nil {
			return err
		}
		o.maxPayload = n
		return nil
	}
}

// WithLogger sets the client's logger (default: discard); l must not be
// nil.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return optcheck.Invalid("WithLogger", nil, "must not be nil")
		}
		o.logger = l
		return nil
	}
}

// WithTracerProvider sets where the client's spans go (a span per start,
// whose context the run's trace continues); tp must not be nil. The
// default is the global provider (otel.GetTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) error {
		if tp == nil {
			return optcheck.Invalid("WithTracerProvider", nil, "must not be nil")
		}
		o.tracerProvider = tp
		return nil
	}
}

// WithReplicas makes New provision the namespace's streams and buckets
// with n replicas (1..5), scaling existing ones to n; more than one needs a
// NATS cluster of at least n nodes. Without it New creates what is missing
// with one replica and leaves the replica count of what exists alone. It
// has no effect with WithoutProvisioning.
func WithReplicas(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 5 {
			return optcheck.Invalid("WithReplicas", n, "must be 1..5")
		}
		o.replicas = n
		return nil
	}
}

// WithoutHistoryWrites makes the client append nothing to history: it hands
// starts, terminates, resets and redrives to the engine (the worker of the
// run's task queue carries them out) and waits until history shows them.
// Use it with a NATS role that may not write history (the client and
// ingress roles of docs/security.md). Unlike the default, these calls then
// need a worker serving the run's task queue, or they end with
// ErrNotConfirmed and stay queued until one comes.
func WithoutHistoryWrites() Option {
	return func(o *options) error {
		o.viaEngine = true
		return nil
	}
}

// WithoutProvisioning skips creating the namespace's streams and buckets;
// use it where they are managed by an operator.
func WithoutProvisioning() Option {
	return func(o *options) error {
		o.provision = false
		return nil
	}
}
