package activities

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/telemetry"
)

// WithTelemetry turns on the Runner's traces (a span per attempt, a child of
// the workflow task that scheduled it) and metrics (schedule-to-start and
// execution latency, task backlog). Without it neither is produced and
// nothing is paid for them.
func WithTelemetry(t *telemetry.Telemetry) RunnerOption {
	return func(o *runnerOptions) { o.telemetry = t }
}

// outcomeSkipped is the cairn.outcome of a redelivered task whose attempt
// the engine had closed already: it was acknowledged without running.
const outcomeSkipped = "skipped"

func noFinish(*Result, bool) {}

// trace starts the attempt's span and returns the context the handler runs
// under and the function that ends the span and records the attempt's
// metrics once its result (or hand-back) is known.
func (ex *execution) trace(ctx context.Context, pickup time.Time) (context.Context, func(*Result, bool)) {
	tel := ex.r.opts.telemetry
	if tel == nil {
		return ctx, noFinish
	}
	t := ex.task
	if t.Deliveries <= 1 {
		// A redelivery waited for a dead worker, not for a free one.
		tel.ActivityScheduleToStart(ctx, t.ActivityType, t.Queue, pickup.Sub(t.Scheduled))
	}
	ctx, span := tel.StartActivity(ctx, &t.ActivityAttempt, ex.msg.Subject(), t.TraceParent, t.TraceState, pickup)
	if attrs := telemetry.LogAttrs(ctx); attrs != nil {
		ex.log = ex.log.With(attrs...)
	}
	return ctx, func(res *Result, handBack bool) {
		outcome, errType := "completed", ""
		switch {
		case handBack:
			outcome = "handed_back"
		case res != nil && res.Failure != nil:
			outcome, errType = "failed", res.Failure.Type
			if res.Failure.Type == history.FailureTimeout {
				outcome = "timed_out"
			}
		}
		tel.ActivityExecuted(ctx, t.ActivityType, t.Queue, outcome, errType, time.Since(pickup))
		if span.IsRecording() {
			span.SetAttributes(telemetry.AttrOutcome.String(outcome))
			switch {
			case handBack:
				telemetry.RecordFailure(span, "cairn.HandedBack", "worker shut down; the attempt goes to another worker")
			case res != nil && res.Failure != nil:
				telemetry.RecordFailure(span, res.Failure.Type, res.Failure.Message)
			}
		}
		span.End()
	}
}
