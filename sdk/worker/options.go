package worker

import (
	"log/slog"
	"time"

	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/sdk/converter"
)

// Option configures a Worker.
type Option func(*options)

type options struct {
	namespace           string
	dc                  converter.DataConverter
	logger              *slog.Logger
	orchestrator        []orchestrator.Option
	activityConcurrency int
	buildID             string
	heartbeat           time.Duration
}

// WithNamespace selects the namespace (default "default").
func WithNamespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// WithDataConverter replaces the JSON payload converter. Clients and every
// worker of a namespace must use the same one.
func WithDataConverter(dc converter.DataConverter) Option { return func(o *options) { o.dc = dc } }

// WithLogger sets the logger of the worker and of workflow code.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithOrchestratorOptions tunes the workflow engine (cache size, shards,
// park retry...).
func WithOrchestratorOptions(opts ...orchestrator.Option) Option {
	return func(o *options) { o.orchestrator = append(o.orchestrator, opts...) }
}

// WithActivityConcurrency bounds concurrent executions per activity type
// (default 64).
func WithActivityConcurrency(n int) Option { return func(o *options) { o.activityConcurrency = n } }

// WithBuildID labels the worker's code version in its heartbeat.
func WithBuildID(id string) Option { return func(o *options) { o.buildID = id } }

// RegisterOption configures one registration.
type RegisterOption func(*registration)

type registration struct {
	name             string
	heartbeatTimeout time.Duration
	concurrency      int
}

// WithName registers under an explicit name instead of the function's.
func WithName(name string) RegisterOption { return func(r *registration) { r.name = name } }

// WithHeartbeatTimeout declares that the activity calls
// activity.RecordHeartbeat at least this often: a worker that stops doing
// so (it died or hangs) loses the task, which is redelivered to another
// worker after this timeout. Without it, the worker process heartbeats for
// the activity while it runs.
func WithHeartbeatTimeout(d time.Duration) RegisterOption {
	return func(r *registration) { r.heartbeatTimeout = d }
}

// WithConcurrency bounds concurrent executions of this activity type.
func WithConcurrency(n int) RegisterOption { return func(r *registration) { r.concurrency = n } }
