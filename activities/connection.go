package activities

import (
	"context"
	"errors"
	"sync"

	"github.com/nats-io/nats.go"
)

// errConnectionChanged is the cancellation cause of a pull request
// abandoned because the connection reconnected or closed.
var errConnectionChanged = errors.New("activities: connection changed")

// pullInterrupter lets connection events cut the current pull request
// short. A pull request lives on the server: after a server restart it is
// gone, and waiting for it to expire would leave the runner idle for up to
// fetchWait while tasks wait. After a reconnect the runner pulls again at
// once; after the connection closes it stops at once.
type pullInterrupter struct {
	mu     sync.Mutex
	cancel context.CancelCauseFunc
}

// begin returns the context of one pull request.
func (p *pullInterrupter) begin(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancelCause := context.WithCancelCause(ctx)
	ctx, cancelTimeout := context.WithTimeout(ctx, fetchWait)
	p.mu.Lock()
	p.cancel = cancelCause
	p.mu.Unlock()
	return ctx, func() {
		p.mu.Lock()
		p.cancel = nil
		p.mu.Unlock()
		cancelTimeout()
		cancelCause(nil)
	}
}

func (p *pullInterrupter) interrupt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		p.cancel(errConnectionChanged)
	}
}

// watchConnection interrupts pulls on reconnects and on close until ctx is
// done. It uses a status listener rather than the connection's handlers,
// which belong to the application.
func (r *Runner) watchConnection(ctx context.Context) *pullInterrupter {
	p := &pullInterrupter{}
	nc := r.js.Conn()
	if nc == nil {
		return p
	}
	events := nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	go func() {
		defer nc.RemoveStatusListener(events)
		for {
			select {
			case <-events:
				p.interrupt()
			case <-ctx.Done():
				return
			}
		}
	}()
	return p
}
