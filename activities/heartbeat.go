package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotActivity is returned by RecordHeartbeat when ctx does not belong to
// an activity execution.
var ErrNotActivity = errors.New("activities: context is not an activity context")

type executionKey struct{}

func executionFrom(ctx context.Context) (*execution, bool) {
	ex, ok := ctx.Value(executionKey{}).(*execution)
	return ex, ok
}

// InfoFrom returns a copy of the task being executed under ctx, which must
// be (derived from) the context a Runner passed to a Handler.
func InfoFrom(ctx context.Context) (*Task, bool) {
	ex, ok := executionFrom(ctx)
	if !ok {
		return nil, false
	}
	t := *ex.task
	return &t, true
}

// RecordHeartbeat reports that the activity running under ctx is alive. It
// restarts the local heartbeat-timeout watchdog, sends an in-progress ack
// (+WPI) on the task message, which restarts the consumer's AckWait on the
// server, and moves the attempt's engine timer forward (see
// NewAttemptTimerMsg), so the engine does not time the attempt out. Acks
// are rate-limited to one per min(1s, AckWait/10), timer moves to one per
// 0.8 × the heartbeat timeout (a heartbeat in between is sent at the end
// of that window), so it is cheap to call in a tight loop.
//
// It returns the context's error once the attempt is over (timed out,
// abandoned or shut down), ErrNotActivity outside an activity, and an error
// if the ack could not be sent.
func RecordHeartbeat(ctx context.Context) error {
	ex, ok := executionFrom(ctx)
	if !ok {
		return ErrNotActivity
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ex.resetWatchdog()
	if ex.timer != nil {
		ex.timer.beat()
	}
	return ex.progress()
}

func (ex *execution) resetWatchdog() {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.watchdog != nil {
		ex.watchdog.Reset(ex.task.HeartbeatTimeout)
	}
}

// progress sends +WPI unless one was sent less than minProgress ago.
func (ex *execution) progress() error {
	ex.mu.Lock()
	now := time.Now()
	if now.Sub(ex.lastProgress) < ex.minProgress {
		ex.mu.Unlock()
		return nil
	}
	ex.lastProgress = now
	ex.mu.Unlock()

	err := ex.msg.InProgress()
	if err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		return fmt.Errorf("activities: heartbeat of activity %s (id %s, attempt %d): %w", ex.task.ActivityType, ex.task.ActivityID, ex.task.Attempt, err)
	}
	return nil
}

// keepAlive sends +WPI every AckWait/3 until the returned function is
// called, so JetStream does not redeliver a task this live process is still
// working on. Three chances per AckWait absorb a lost ack or a slow
// reconnect.
func (ex *execution) keepAlive(ctx context.Context) (stop func()) {
	interval := max(ex.ackWait/3, 10*time.Millisecond)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if err := ex.progress(); err != nil {
					ex.log.Debug("in-progress ack failed", "error", err)
				}
			case <-quit:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return sync.OnceFunc(func() {
		close(quit)
		<-done
	})
}
