package activities

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/sdk/failure"
)

// heartbeatThrottle is the share of the heartbeat timeout that heartbeats
// move the attempt timer at most once per (Temporal throttles heartbeats
// the same way): a heartbeat inside the window is sent when it closes, so
// the timer, due a whole heartbeat timeout after its last move, is always
// moved again well before it fires.
const heartbeatThrottle = 0.8

// attemptTimer keeps the engine's timer of one running attempt (see
// NewAttemptTimerMsg): armed before the handler runs, moved forward by the
// handler's heartbeats, stopped before the result is published (the result
// purges it). When this process dies, nothing moves it any more and it
// fires: the engine times the attempt out and retries it.
type attemptTimer struct {
	ex *execution
	// startToClose is when the attempt's start-to-close timeout passes
	// (zero: none); heartbeat is its heartbeat timeout (0: none).
	startToClose time.Time
	heartbeat    time.Duration

	beats  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	// lastMove is when the timer was last published, and final whether it
	// is due at startToClose, which no heartbeat moves. Only the moving
	// goroutine touches them once it runs.
	lastMove time.Time
	final    bool
}

func newAttemptTimer(ex *execution, pickup time.Time) *attemptTimer {
	at := &attemptTimer{ex: ex, heartbeat: ex.task.HeartbeatTimeout, beats: make(chan struct{}, 1), done: make(chan struct{})}
	if s2c := ex.task.StartToClose; s2c > 0 {
		at.startToClose = pickup.Add(s2c)
	}
	return at
}

// due is when the timer must fire if nothing moves it after now, and the
// timeout it then reports.
func (at *attemptTimer) due(now time.Time) (time.Time, string) {
	if at.heartbeat > 0 {
		if d := now.Add(at.heartbeat); at.startToClose.IsZero() || d.Before(at.startToClose) {
			return d, failure.TimeoutHeartbeat
		}
	}
	return at.startToClose, failure.TimeoutStartToClose
}

// arm publishes the timer before the handler runs, retrying until it is
// stored: running the attempt unguarded would leave a crash to the
// consumer's AckWait again. It returns false if ctx ended first. Then it
// starts moving the timer on heartbeats.
func (at *attemptTimer) arm(ctx context.Context) bool {
	if !at.publish(ctx) {
		return false
	}
	mctx, cancel := context.WithCancel(ctx)
	at.cancel = cancel
	if at.heartbeat <= 0 || at.final {
		close(at.done)
		return true
	}
	go at.move(mctx)
	return true
}

// beat asks for the timer to move after a heartbeat. It never blocks.
func (at *attemptTimer) beat() {
	select {
	case at.beats <- struct{}{}:
	default:
	}
}

// stop stops moving the timer and waits until no move is under way, so a
// result published after it purges the last schedule.
func (at *attemptTimer) stop() {
	if at.cancel == nil {
		return
	}
	at.cancel()
	<-at.done
}

// move republishes the timer after heartbeats, at most once per
// heartbeatThrottle × the heartbeat timeout.
func (at *attemptTimer) move(ctx context.Context) {
	defer close(at.done)
	interval := time.Duration(heartbeatThrottle * float64(at.heartbeat))
	for !at.final {
		select {
		case <-at.beats:
		case <-ctx.Done():
			return
		}
		if wait := time.Until(at.lastMove.Add(interval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		// Heartbeats that came while waiting are covered by this move.
		select {
		case <-at.beats:
		default:
		}
		if !at.publish(ctx) {
			return
		}
	}
}

// publish stores the timer's schedule, due as due says from now, retrying
// until it is stored or ctx ends.
func (at *attemptTimer) publish(ctx context.Context) bool {
	t := at.ex.task
	bo := newBackoff(50*time.Millisecond, time.Second)
	for attempt := 1; ; attempt++ {
		now := time.Now()
		fireAt, kind := at.due(now)
		msg := NewAttemptTimerMsg(t.AttemptTimer, t.Reply, fireAt, &AttemptTimeout{Run: t.Run, ActivityID: t.ActivityID,
			Attempt: t.Attempt, Deliveries: t.Deliveries, Kind: kind, Token: t.Token})
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		_, err := at.ex.r.js.PublishMsg(pctx, msg)
		cancel()
		if err == nil {
			at.lastMove, at.final = now, kind == failure.TimeoutStartToClose
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		lvl := slog.LevelDebug
		if attempt%20 == 1 {
			lvl = slog.LevelWarn
		}
		at.ex.log.Log(ctx, lvl, "publishing the attempt timer failed; retrying", slog.String("subject", t.AttemptTimer),
			slog.Int("publish_attempt", attempt), slog.Any("error", err))
		if !sleep(ctx, bo.next()) {
			return false
		}
	}
}

// closedByEngine reports whether the engine has closed the attempt of a
// redelivered task: its worker died or stalled, the attempt timer fired,
// and the engine recorded the attempt as timed out and marked it closed
// (KindAttemptClosed) on the timer's subject. Running it again would be
// wasted: its result would be ignored. Any doubt (no mark, an error)
// means the attempt runs.
func (ex *execution) closedByEngine(ctx context.Context) bool {
	t := ex.task
	if t.AttemptTimer == "" || t.Deliveries <= 1 {
		return false
	}
	inbox, err := ex.r.inboxStream(ctx)
	if err != nil {
		ex.log.Debug("cannot read the attempt timer; running the attempt", slog.Any("error", err))
		return false
	}
	gctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	m, err := inbox.GetLastMsgForSubject(gctx, t.AttemptTimer)
	if err != nil {
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			ex.log.Debug("cannot read the attempt timer; running the attempt", slog.Any("error", err))
		}
		return false
	}
	return IsAttemptClosed(m.Header)
}

// inboxStream is the stream of the attempt timers, looked up once.
func (r *Runner) inboxStream(ctx context.Context) (jetstream.Stream, error) {
	r.inboxMu.Lock()
	defer r.inboxMu.Unlock()
	if r.inbox != nil {
		return r.inbox, nil
	}
	sctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	s, err := r.js.Stream(sctx, r.names.InboxStream())
	if err != nil {
		return nil, err
	}
	r.inbox = s
	return s, nil
}

// skipClosed acknowledges a redelivered task whose attempt the engine has
// closed already (closedByEngine) without running it. Nothing is reported:
// the engine is not waiting for this attempt any more.
func (ex *execution) skipClosed(ctx context.Context) {
	ex.log.Info("the engine closed this attempt after its worker stopped (its attempt timer fired); not running it again")
	if tel := ex.r.opts.telemetry; tel != nil {
		tel.ActivityExecuted(ctx, ex.task.ActivityType, ex.task.Queue, outcomeSkipped, "", 0)
	}
	ex.ack(ctx)
}
