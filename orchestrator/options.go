package orchestrator

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/telemetry"
)

// Options tune a Worker. The zero value of each field means its default.
type Options struct {
	// Shards is the number of instances processed in parallel; messages of
	// one instance always go to the same shard, in order.
	Shards int
	// CacheSize bounds the live instances kept in memory.
	CacheSize int
	// AckWait is how long the server waits for a workflow task before
	// redelivering its messages to another worker (default
	// DefaultAckWait). A live worker keeps the messages it holds alive, so
	// it bounds how long a dead worker's messages wait.
	AckWait time.Duration
	// Partitions is the queue's partition count (default
	// streams.DefaultPartitions); every worker of a queue must use the
	// same.
	Partitions int
	// ParkRetry is how long messages of a parked instance (its code broke
	// determinism or panicked) wait before they are tried again.
	ParkRetry time.Duration
	// LocalTimerHorizon: timers due within it are also fired in-process,
	// on time, by the worker holding the instance.
	LocalTimerHorizon time.Duration
	// DeadlockTimeout bounds how long workflow code may run without
	// yielding.
	DeadlockTimeout time.Duration
	Logger          *slog.Logger
	// MaxHistoryEvents bounds each run's history (default
	// executor.DefaultMaxHistoryEvents); see WithMaxHistoryEvents.
	MaxHistoryEvents int64
	// MaxHistoryBytes bounds the stored size of each run's history
	// (default DefaultMaxHistoryBytes); see WithMaxHistoryBytes.
	MaxHistoryBytes int64
	// Lifecycle, if set, receives the status changes of runs (see
	// WithLifecycle).
	Lifecycle func(context.Context, LifecycleEvent)
	// Telemetry, if set, receives the worker's traces and metrics (see
	// WithTelemetry).
	Telemetry *telemetry.Telemetry
	// Retention is how long the runs this worker closes are kept before
	// they are purged (default DefaultRetention; KeepForever or any
	// negative value: never purged). See WithRetention.
	Retention time.Duration
	// StraySweep is how often the worker moves the strays of the
	// namespace's work queues to its dead letters (streams.SweepStrays):
	// at start, then at this interval (default DefaultStraySweep).
	StraySweep time.Duration
}

// Option changes Options.
type Option func(*Options)

// WithOptions replaces the options wholesale (zero fields take defaults).
func WithOptions(o Options) Option { return func(p *Options) { *p = o } }

// WithCacheSize bounds the sticky cache.
func WithCacheSize(n int) Option { return func(o *Options) { o.CacheSize = n } }

// WithParkRetry sets how long a parked instance waits between retries.
func WithParkRetry(d time.Duration) Option { return func(o *Options) { o.ParkRetry = d } }

// DefaultAckWait is the default workflow task redelivery timeout.
const DefaultAckWait = 5 * time.Second

// WithPartitions sets the queue's partition count.
func WithPartitions(n int) Option { return func(o *Options) { o.Partitions = n } }

// WithAckWait sets the workflow task redelivery timeout.
func WithAckWait(d time.Duration) Option { return func(o *Options) { o.AckWait = d } }

// WithLogger sets the engine logger.
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Logger = l } }

// WithMaxHistoryEvents bounds each run's history: a task that would pass
// the bound commits nothing and parks the instance with a message that asks
// for continue-as-new.
func WithMaxHistoryEvents(n int64) Option { return func(o *Options) { o.MaxHistoryEvents = n } }

// WithMaxHistoryBytes bounds the stored size of each run's history, like
// WithMaxHistoryEvents.
func WithMaxHistoryBytes(n int64) Option { return func(o *Options) { o.MaxHistoryBytes = n } }

// DefaultMaxHistoryBytes is the default bound of a run's stored history.
const DefaultMaxHistoryBytes = 50 << 20

// WithShards sets the number of instances processed in parallel.
func WithShards(n int) Option { return func(o *Options) { o.Shards = n } }

func (o *Options) defaults() {
	if o.Shards <= 0 {
		// Tasks mostly wait on round trips to the server, so many more
		// shards than cores keep both busy.
		o.Shards = 16 * runtime.GOMAXPROCS(0)
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 10_000
	}
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.Partitions <= 0 {
		o.Partitions = streams.DefaultPartitions
	}
	if o.ParkRetry <= 0 {
		o.ParkRetry = 10 * time.Second
	}
	if o.LocalTimerHorizon <= 0 {
		o.LocalTimerHorizon = 10 * time.Minute
	}
	if o.DeadlockTimeout <= 0 {
		o.DeadlockTimeout = time.Second
	}
	if o.MaxHistoryBytes <= 0 {
		o.MaxHistoryBytes = DefaultMaxHistoryBytes
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.StraySweep <= 0 {
		o.StraySweep = DefaultStraySweep
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}
