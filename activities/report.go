package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
)

// FailureResultTooLarge is the failure type reported in place of a result
// that exceeds the server's message size limits.
const FailureResultTooLarge = "cairn.ResultTooLarge"

const (
	publishTimeout = 5 * time.Second
	ackTimeout     = 5 * time.Second
	ackAttempts    = 3
)

// report publishes the result and, once JetStream has acknowledged it, acks
// the task. The order is the at-least-once guarantee: a crash in between
// redelivers the task, and the repeated result is de-duplicated by its
// Nats-Msg-Id or ignored by the engine.
func (ex *execution) report(ctx context.Context, res *Result) {
	if !ex.publish(ctx, res) {
		return
	}
	ex.ack(ctx)
	if res.Failure != nil {
		ex.log.Info("activity attempt failed", slog.String("failure", res.Failure.String()))
	} else {
		ex.log.Debug("activity attempt completed")
	}
}

// publish retries until the result is stored. The server may be
// restarting, so every error is presumed transient except a closed
// connection (nothing more can be sent; the task is redelivered after
// AckWait) and a result too large to ever be stored (replaced by a failure
// that fits).
func (ex *execution) publish(ctx context.Context, res *Result) bool {
	bo := newBackoff(100*time.Millisecond, 5*time.Second)
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		_, err := ex.r.js.PublishMsg(pctx, NewResultMsg(ex.task.Reply, res))
		cancel()
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			ex.log.Warn("runner shut down before the result was stored; handing the task back", slog.Any("error", err))
			_ = ex.msg.Nak()
			return false
		case errors.Is(err, nats.ErrConnectionClosed):
			ex.log.Error("connection closed before the result was stored; the task will be redelivered", slog.Any("error", err))
			return false
		case tooLarge(err) && (res.Failure == nil || res.Failure.Type != FailureResultTooLarge):
			ex.log.Error("result too large to publish; reporting a failure instead", slog.Any("error", err))
			res = ex.tooLargeResult(res, err)
			continue
		case res.AttemptTimer != "" && isAPIError(err, errCodeSchedulerInvalid):
			// The attempt timer's subject holds no schedule to purge but
			// the engine's closed mark (the attempt timed out meanwhile):
			// the result is stored without the purge, and ignored.
			r := *res
			r.AttemptTimer = ""
			res = &r
			continue
		}
		// Warn at the start of an outage and now and then during it,
		// rather than on every retry.
		lvl := slog.LevelDebug
		if attempt%20 == 1 {
			lvl = slog.LevelWarn
		}
		ex.log.Log(ctx, lvl, "publishing result failed; retrying", slog.String("reply", ex.task.Reply), slog.Int("publish_attempt", attempt), slog.Any("error", err))
		if !sleep(ctx, bo.next()) {
			ex.log.Warn("runner shut down before the result was stored; handing the task back")
			_ = ex.msg.Nak()
			return false
		}
	}
}

// errCodeSchedulerInvalid is JetStream's answer to a message that would
// purge a schedule (Nats-Scheduler) on a subject whose last message is not
// a schedule.
const errCodeSchedulerInvalid jetstream.ErrorCode = 10212

func isAPIError(err error, code jetstream.ErrorCode) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == code
}

func tooLarge(err error) bool {
	return errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum)
}

func (ex *execution) tooLargeResult(res *Result, err error) *Result {
	r := *res
	r.Output = nil
	r.Failure = &history.Failure{
		Type:         FailureResultTooLarge,
		NonRetryable: true,
		Message: fmt.Sprintf("activity %s attempt %d produced a result of %d bytes that cannot be stored: %v",
			ex.task.ActivityType, ex.task.Attempt, len(res.Output)+failureSize(res.Failure), err),
	}
	return &r
}

func failureSize(f *history.Failure) int {
	if f == nil {
		return 0
	}
	return len(f.Message) + len(f.Stack) + len(f.Details) + failureSize(f.Cause)
}

// ack confirms the task with a double ack, so a lost ack (say, during a
// server restart) is noticed and retried. If it still cannot be confirmed,
// the task may be redelivered and run again, which at-least-once allows.
func (ex *execution) ack(ctx context.Context) {
	var err error
	for range ackAttempts {
		actx, cancel := context.WithTimeout(ctx, ackTimeout)
		err = ex.msg.DoubleAck(actx)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrMsgAlreadyAckd) || errors.Is(err, nats.ErrConnectionClosed) || ctx.Err() != nil {
			break
		}
	}
	if err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		ex.log.Warn("could not confirm the task ack; it may be redelivered and run again", slog.Any("error", err))
	}
}
