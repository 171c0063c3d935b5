package telemetry

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

var (
	noopTracer = tracenoop.NewTracerProvider().Tracer(ScopeName)
	noopMeter  = metricnoop.NewMeterProvider().Meter(ScopeName)
)

// Metric names (OpenTelemetry form; the Prometheus handler turns dots into
// underscores and adds unit and _total suffixes). docs/observability.md
// describes each.
const (
	MetricWorkflowStarted         = "cairn.workflow.started"
	MetricWorkflowCompleted       = "cairn.workflow.completed"
	MetricWorkflowFailed          = "cairn.workflow.failed"
	MetricWorkflowTaskDuration    = "cairn.workflow_task.duration"
	MetricActivityScheduleToStart = "cairn.activity.schedule_to_start"
	MetricActivityDuration        = "cairn.activity.duration"
	MetricTimerLateness           = "cairn.timer.lateness"
	MetricCacheLookups            = "cairn.cache.lookups"
	MetricCacheSize               = "cairn.cache.size"
	MetricInboxBacklog            = "cairn.inbox.backlog"
	MetricTaskBacklog             = "cairn.task.backlog"
)

// latencyBuckets (seconds) suit everything from a cached workflow task to a
// long activity.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

type instruments struct {
	started, completed, failed metric.Int64Counter
	taskDuration               metric.Float64Histogram
	scheduleToStart            metric.Float64Histogram
	activityDuration           metric.Float64Histogram
	timerLateness              metric.Float64Histogram
	cacheLookups               metric.Int64Counter
	cacheSize                  metric.Int64ObservableGauge
	inboxBacklog               metric.Int64ObservableGauge
	taskBacklog                metric.Int64ObservableGauge
}

func newInstruments(m metric.Meter, log *slog.Logger) instruments {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var in instruments
	var err error
	in.started, err = m.Int64Counter(MetricWorkflowStarted, metric.WithUnit("{workflow}"),
		metric.WithDescription("Workflow runs started."))
	check(err)
	in.completed, err = m.Int64Counter(MetricWorkflowCompleted, metric.WithUnit("{workflow}"),
		metric.WithDescription("Workflow runs that completed successfully."))
	check(err)
	in.failed, err = m.Int64Counter(MetricWorkflowFailed, metric.WithUnit("{workflow}"),
		metric.WithDescription("Workflow runs that closed without success (cairn.workflow.status: failed, canceled, terminated, timed_out)."))
	check(err)
	in.taskDuration, err = m.Float64Histogram(MetricWorkflowTaskDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of workflow tasks, from taking the inbox messages to acknowledging them."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...))
	check(err)
	in.scheduleToStart, err = m.Float64Histogram(MetricActivityScheduleToStart, metric.WithUnit("s"),
		metric.WithDescription("Time activity attempts waited between being scheduled and being picked up by a worker."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...))
	check(err)
	in.activityDuration, err = m.Float64Histogram(MetricActivityDuration, metric.WithUnit("s"),
		metric.WithDescription("Execution time of activity attempts (the handler)."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...))
	check(err)
	in.timerLateness, err = m.Float64Histogram(MetricTimerLateness, metric.WithUnit("s"),
		metric.WithDescription("How late timers fired: from their due time to the workflow task that recorded the fire."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...))
	check(err)
	in.cacheLookups, err = m.Int64Counter(MetricCacheLookups, metric.WithUnit("{lookup}"),
		metric.WithDescription("Workflow tasks by whether the instance was in the sticky cache (cairn.cache.result: hit, miss)."))
	check(err)
	in.cacheSize, err = m.Int64ObservableGauge(MetricCacheSize, metric.WithUnit("{instance}"),
		metric.WithDescription("Workflow instances held in the sticky cache."))
	check(err)
	in.inboxBacklog, err = m.Int64ObservableGauge(MetricInboxBacklog, metric.WithUnit("{message}"),
		metric.WithDescription("Inbox messages of a task queue not yet processed (pending plus unacknowledged)."))
	check(err)
	in.taskBacklog, err = m.Int64ObservableGauge(MetricTaskBacklog, metric.WithUnit("{message}"),
		metric.WithDescription("Activity task messages of a type not yet processed (pending plus unacknowledged)."))
	check(err)
	for _, err := range errs {
		log.Warn("telemetry: metric instrument", "error", err)
	}
	// A failed constructor still returns a usable no-op instrument.
	return in
}

// WorkflowStarted counts a run started.
func (t *Telemetry) WorkflowStarted(ctx context.Context, workflowType, queue string) {
	if t == nil {
		return
	}
	t.m.started.Add(ctx, 1, metric.WithAttributes(AttrWorkflowType.String(workflowType), AttrTaskQueue.String(queue)))
}

// WorkflowClosed counts a run closed with status (completed, failed,
// canceled, terminated, timed_out).
func (t *Telemetry) WorkflowClosed(ctx context.Context, workflowType, queue, status string) {
	if t == nil {
		return
	}
	if status == "completed" {
		t.m.completed.Add(ctx, 1, metric.WithAttributes(AttrWorkflowType.String(workflowType), AttrTaskQueue.String(queue)))
		return
	}
	t.m.failed.Add(ctx, 1, metric.WithAttributes(AttrWorkflowType.String(workflowType), AttrTaskQueue.String(queue),
		AttrWorkflowStatus.String(status)))
}

// WorkflowTask records a workflow task's duration and outcome.
func (t *Telemetry) WorkflowTask(ctx context.Context, workflowType, queue, outcome string, d time.Duration) {
	if t == nil {
		return
	}
	t.m.taskDuration.Record(ctx, d.Seconds(), metric.WithAttributes(AttrWorkflowType.String(workflowType),
		AttrTaskQueue.String(queue), AttrTaskOutcome.String(outcome)))
}

// CacheLookup counts a workflow task served from the sticky cache (hit) or
// not.
func (t *Telemetry) CacheLookup(ctx context.Context, queue string, hit bool) {
	if t == nil {
		return
	}
	r := "miss"
	if hit {
		r = "hit"
	}
	t.m.cacheLookups.Add(ctx, 1, metric.WithAttributes(AttrTaskQueue.String(queue), AttrCacheResult.String(r)))
}

// ActivityScheduleToStart records how long an attempt waited in its queue.
func (t *Telemetry) ActivityScheduleToStart(ctx context.Context, activityType, queue string, d time.Duration) {
	if t == nil {
		return
	}
	t.m.scheduleToStart.Record(ctx, max(d, 0).Seconds(), metric.WithAttributes(AttrActivityType.String(activityType),
		AttrTaskQueue.String(queue)))
}

// ActivityExecuted records an attempt's execution time; outcome is
// completed, failed, timed_out, handed_back or skipped (a redelivered
// attempt the engine had closed, not run) and errorType the failure type,
// if any.
func (t *Telemetry) ActivityExecuted(ctx context.Context, activityType, queue, outcome, errorType string, d time.Duration) {
	if t == nil {
		return
	}
	attrs := []attribute.KeyValue{AttrActivityType.String(activityType), AttrTaskQueue.String(queue), AttrOutcome.String(outcome)}
	if errorType != "" {
		attrs = append(attrs, AttrErrorType.String(errorType))
	}
	t.m.activityDuration.Record(ctx, d.Seconds(), metric.WithAttributes(attrs...))
}

// TimerLateness records how late a timer fire was recorded.
func (t *Telemetry) TimerLateness(ctx context.Context, workflowType, queue string, d time.Duration) {
	if t == nil {
		return
	}
	t.m.timerLateness.Record(ctx, max(d, 0).Seconds(), metric.WithAttributes(AttrWorkflowType.String(workflowType),
		AttrTaskQueue.String(queue)))
}

// ObserveCacheSize reports size() as the cache size of queue on every
// collection, until the returned function is called.
func (t *Telemetry) ObserveCacheSize(queue string, size func() int) (stop func()) {
	if t == nil {
		return func() {}
	}
	attrs := metric.WithAttributes(AttrTaskQueue.String(queue))
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(t.m.cacheSize, int64(size()), attrs)
		return nil
	}, t.m.cacheSize)
	return t.unregisterer(reg, err)
}

// ObserveInboxBacklog reports the backlog of queue's inbox on every
// collection, until the returned function is called. backlog is called with
// a context bounded to a few seconds; an error skips the observation.
func (t *Telemetry) ObserveInboxBacklog(queue string, backlog func(context.Context) (int64, error)) (stop func()) {
	if t == nil {
		return func() {}
	}
	return t.observeBacklog(t.m.inboxBacklog, backlog, AttrTaskQueue.String(queue))
}

// ObserveTaskBacklog reports the backlog of an activity type's tasks.
func (t *Telemetry) ObserveTaskBacklog(queue, activityType string, backlog func(context.Context) (int64, error)) (stop func()) {
	if t == nil {
		return func() {}
	}
	return t.observeBacklog(t.m.taskBacklog, backlog, AttrTaskQueue.String(queue), AttrActivityType.String(activityType))
}

func (t *Telemetry) observeBacklog(g metric.Int64ObservableGauge, backlog func(context.Context) (int64, error), kv ...attribute.KeyValue) func() {
	attrs := metric.WithAttributes(kv...)
	reg, err := t.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		n, err := backlog(ctx)
		if err != nil {
			return nil // no observation this time; the server may be away
		}
		o.ObserveInt64(g, n, attrs)
		return nil
	}, g)
	return t.unregisterer(reg, err)
}

func (t *Telemetry) unregisterer(reg metric.Registration, err error) func() {
	if err != nil {
		t.log.Warn("telemetry: metric callback", "error", err)
		return func() {}
	}
	return func() { _ = reg.Unregister() }
}
