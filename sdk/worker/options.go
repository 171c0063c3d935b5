package worker

import (
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/internal/optcheck"
	"github.com/cairnhq/cairn/internal/workercfg"
	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/streams"
)

// ErrInvalidOption is wrapped by the error New returns for an option given
// an invalid value, and by the error Run returns for an invalid
// RegisterOption; the message names the option and the value. It is the
// same value as client.ErrInvalidOption and workflow.ErrInvalidOption.
var ErrInvalidOption = optcheck.ErrInvalidOption

// Option configures a Worker. New applies the options in order and fails
// with an error wrapping ErrInvalidOption at the first invalid one.
type Option func(*options) error

type options = workercfg.Options

func engine(o orchestrator.Option) Option {
	return func(p *options) error {
		p.Engine = append(p.Engine, o)
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
		o.Namespace = ns
		return nil
	}
}

// WithReplicas makes Run provision the namespace's streams and buckets with
// n replicas (1..5), scaling existing ones to n; more than one needs a NATS
// cluster of at least n nodes. Without it Run creates what is missing with
// one replica and leaves the replica count of what exists alone, so workers
// never undo an operator's choice.
func WithReplicas(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 5 {
			return optcheck.Invalid("WithReplicas", n, "must be 1..5")
		}
		o.Replicas = n
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
		o.DataConverter = dc
		return nil
	}
}

// WithLogger sets the logger of the worker and of workflow code (default:
// discard); l must not be nil.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return optcheck.Invalid("WithLogger", nil, "must not be nil")
		}
		o.Logger = l
		return nil
	}
}

// WithRetention sets how long the runs this worker closes are kept
// (history and summary) before they are purged: default 7 days; d <= 0
// keeps them forever.
func WithRetention(d time.Duration) Option { return engine(orchestrator.WithRetention(d)) }

// WithActivityConcurrency bounds the concurrent executions of each activity
// type (default 64); n must be at least 1. WithConcurrency overrides it for
// one registration.
func WithActivityConcurrency(n int) Option {
	return func(o *options) error {
		if err := optcheck.AtLeast1("WithActivityConcurrency", n); err != nil {
			return err
		}
		o.ActivityConcurrency = n
		return nil
	}
}

// WithMaxCachedWorkflows bounds the workflow instances the worker keeps in
// memory between their tasks (default 10,000); n must be at least 1. An
// instance evicted from the cache is replayed from history at its next
// task, which costs time but never correctness.
func WithMaxCachedWorkflows(n int) Option {
	return func(o *options) error {
		if err := optcheck.AtLeast1("WithMaxCachedWorkflows", n); err != nil {
			return err
		}
		return engine(orchestrator.WithCacheSize(n))(o)
	}
}

// WithWorkflowTaskShards sets how many workflow instances the worker
// processes in parallel (default 16 per core); n must be at least 1. The
// tasks of one instance always run in order, on one shard.
func WithWorkflowTaskShards(n int) Option {
	return func(o *options) error {
		if err := optcheck.AtLeast1("WithWorkflowTaskShards", n); err != nil {
			return err
		}
		return engine(orchestrator.WithShards(n))(o)
	}
}

// WithWorkflowTaskPartitions sets how many partitions the queue's workflow
// tasks are split into (default 16, at most 256): the queue's workers own
// partitions, one worker each at a time, so it bounds how many workers
// share the queue's workflow tasks. Every worker of a queue must use the
// same count; a worker that disagrees with the queue's existing partitions
// fails to run. Changing it means stopping every worker of the queue and
// deleting its workflow task consumers.
func WithWorkflowTaskPartitions(n int) Option {
	return func(o *options) error {
		if n < 1 || n > streams.InboxSlots {
			return optcheck.Invalid("WithWorkflowTaskPartitions", n, fmt.Sprintf("must be 1..%d", streams.InboxSlots))
		}
		return engine(orchestrator.WithPartitions(n))(o)
	}
}

// WithWorkflowTaskTimeout sets how long the server waits for this worker to
// finish a workflow task before it redelivers the task's messages to
// another worker (default 5s); d must be positive. A worker that dies in
// the middle of a task is replaced after d; a live worker keeps the
// messages it holds alive, however long their tasks take.
func WithWorkflowTaskTimeout(d time.Duration) Option {
	return func(o *options) error {
		if err := optcheck.Positive("WithWorkflowTaskTimeout", d); err != nil {
			return err
		}
		return engine(orchestrator.WithAckWait(d))(o)
	}
}

// WithParkRetry sets how long the messages of a parked run (its code broke
// determinism or panicked) wait before the worker tries them again
// (default 10s); d must be positive. A parked run resumes by itself at the
// first try after compatible code is deployed.
func WithParkRetry(d time.Duration) Option {
	return func(o *options) error {
		if err := optcheck.Positive("WithParkRetry", d); err != nil {
			return err
		}
		return engine(orchestrator.WithParkRetry(d))(o)
	}
}

// WithMaxHistoryEvents bounds the events of each run's history (default
// 50,000); n must be at least 1. A task that would pass the bound commits
// nothing and parks the run with a message asking for continue-as-new.
func WithMaxHistoryEvents(n int64) Option {
	return func(o *options) error {
		if err := optcheck.AtLeast1("WithMaxHistoryEvents", n); err != nil {
			return err
		}
		return engine(orchestrator.WithMaxHistoryEvents(n))(o)
	}
}

// WithMaxHistoryBytes bounds the stored size of each run's history, in
// bytes (default 50 MiB), like WithMaxHistoryEvents; n must be at least 1.
func WithMaxHistoryBytes(n int64) Option {
	return func(o *options) error {
		if err := optcheck.AtLeast1("WithMaxHistoryBytes", n); err != nil {
			return err
		}
		return engine(orchestrator.WithMaxHistoryBytes(n))(o)
	}
}

// WithDeadlockDetectionTimeout bounds how long workflow code may run
// without blocking on a workflow primitive (default 1s); d must be
// positive. Code that runs longer is stopped and its run parked, since
// workflow code must not compute for long or block outside the SDK.
func WithDeadlockDetectionTimeout(d time.Duration) Option {
	return func(o *options) error {
		if err := optcheck.Positive("WithDeadlockDetectionTimeout", d); err != nil {
			return err
		}
		return engine(func(e *orchestrator.Options) { e.DeadlockTimeout = d })(o)
	}
}

// WithTracerProvider sets where the worker's spans go (a span per workflow
// task, per activity attempt, per timer, and one per workflow execution);
// tp must not be nil. The default is the global provider
// (otel.GetTracerProvider), a no-op unless the application installed one.
// The provider must use telemetry.IDGenerator for execution spans to be
// emitted (providers made by telemetry.NewTracerProvider and
// otelsetup.Setup do).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) error {
		if tp == nil {
			return optcheck.Invalid("WithTracerProvider", nil, "must not be nil")
		}
		o.TracerProvider = tp
		return nil
	}
}

// WithMeterProvider sets where the worker's metrics go
// (docs/observability.md lists them); mp must not be nil. The default is
// the global provider (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) error {
		if mp == nil {
			return optcheck.Invalid("WithMeterProvider", nil, "must not be nil")
		}
		o.MeterProvider = mp
		return nil
	}
}

// WithoutTelemetry turns traces and metrics off entirely, whatever the
// global providers are.
func WithoutTelemetry() Option {
	return func(o *options) error {
		o.NoTelemetry = true
		return nil
	}
}

// WithBuildID labels the worker's code version in its heartbeat (shown by
// `cairn worker list`); id must not be empty.
func WithBuildID(id string) Option {
	return func(o *options) error {
		if id == "" {
			return optcheck.Invalid("WithBuildID", id, "must not be empty")
		}
		o.BuildID = id
		return nil
	}
}

// RegisterOption configures one registration. An invalid value makes the
// registration fail; Run reports it with an error wrapping
// ErrInvalidOption.
type RegisterOption func(*registration) error

type registration struct {
	name             string
	heartbeatTimeout time.Duration
	concurrency      int
}

// WithName registers under an explicit name instead of the function's;
// name must not be empty.
func WithName(name string) RegisterOption {
	return func(r *registration) error {
		if name == "" {
			return optcheck.Invalid("WithName", name, "must not be empty")
		}
		r.name = name
		return nil
	}
}

// WithHeartbeatTimeout declares that the activity calls
// activity.RecordHeartbeat at least every d (d must be positive): a worker
// that stops doing so (it died or hangs) loses the task, which is
// redelivered to another worker after d, as the same attempt. Without it,
// the worker process heartbeats for the activity while it runs. It applies
// to activities only. Attempts of activities scheduled with a
// HeartbeatTimeout or StartToCloseTimeout (workflow.ActivityOptions) are
// timed out by the engine from those whether or not this is set.
func WithHeartbeatTimeout(d time.Duration) RegisterOption {
	return func(r *registration) error {
		if err := optcheck.Positive("WithHeartbeatTimeout", d); err != nil {
			return err
		}
		r.heartbeatTimeout = d
		return nil
	}
}

// WithConcurrency bounds the concurrent executions of this activity type,
// overriding WithActivityConcurrency; n must be at least 1. It applies to
// activities only.
func WithConcurrency(n int) RegisterOption {
	return func(r *registration) error {
		if err := optcheck.AtLeast1("WithConcurrency", n); err != nil {
			return err
		}
		r.concurrency = n
		return nil
	}
}
