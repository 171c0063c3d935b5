package executor

import (
	"encoding/json"
	"time"

	"github.com/cairnhq/cairn/history"
)

// PendingSignals returns how many received events named name wait to be
// taken.
func (c *Ctx) PendingSignals(name string) int { return len(c.inst.signals[name]) }

// WaitSignal blocks the calling coroutine until an event named name is
// buffered, the context is canceled, or (when timeout > 0) a durable timer
// of that length fires first. It returns the payload and whether an event
// was taken; on timeout ok is false and failure nil; on cancellation the
// failure is the context's.
func (c *Ctx) WaitSignal(name string, timeout time.Duration) (payload json.RawMessage, ok bool, f *history.Failure) {
	in := c.inst
	co := c.Coroutine()
	if timeout <= 0 {
		co.Block(func() bool { return len(in.signals[name]) > 0 || c.Err() != nil })
	} else {
		tctx, cancel := c.WithCancel()
		t := tctx.NewTimer(timeout, "wait "+name)
		co.Block(func() bool { return len(in.signals[name]) > 0 || c.Err() != nil || t.IsReady() })
		if len(in.signals[name]) > 0 {
			cancel()
		} else if c.Err() == nil {
			return nil, false, nil // timed out
		}
	}
	if q := in.signals[name]; len(q) > 0 {
		in.signals[name] = q[1:]
		return q[0], true, nil
	}
	return nil, false, c.Err()
}
