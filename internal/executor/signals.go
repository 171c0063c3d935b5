package executor

import (
	"encoding/json"
	"time"

	"github.com/cairnhq/cairn/history"
)

// PendingSignals returns how many received events named name wait to be
// taken.
func (c *Ctx) PendingSignals(name string) int {
	n := 0
	for _, s := range c.inst.signals {
		if s.Name == name {
			n++
		}
	}
	return n
}

// takeSignal removes and returns the oldest buffered event named name.
func (in *Instance) takeSignal(name string) (*history.SignalReceived, bool) {
	for i, s := range in.signals {
		if s.Name == name {
			in.signals = append(in.signals[:i:i], in.signals[i+1:]...)
			return s, true
		}
	}
	return nil, false
}

func (in *Instance) hasSignal(name string) bool {
	for _, s := range in.signals {
		if s.Name == name {
			return true
		}
	}
	return false
}

// PendingEvents returns the buffered events not taken yet, in arrival
// order: what continue-as-new carries to the next run.
func (in *Instance) PendingEvents() []*history.SignalReceived { return in.signals }

// signalWaitSkipsTimer is the internal change that made a wait with a
// timeout for a signal already buffered take it without a timer.
const signalWaitSkipsTimer = "cairn.signal-wait-skips-timer"

// WaitSignal blocks the calling coroutine until an event named name is
// buffered, the context is canceled, or (when timeout > 0) a durable timer
// of that length fires first. It returns the payload and whether an event
// was taken; on timeout ok is false and failure nil; on cancellation the
// failure is the context's.
func (c *Ctx) WaitSignal(name string, timeout time.Duration) (payload json.RawMessage, ok bool, f *history.Failure) {
	in := c.inst
	co := c.Coroutine()
	switch {
	case timeout <= 0:
		co.Block(func() bool { return in.hasSignal(name) || c.Err() != nil })
	case in.hasSignal(name) && c.GetVersion(signalWaitSkipsTimer, DefaultVersion, 1) == 1:
		// Buffered already: nothing to wait for, so no timer to start and
		// cancel. Runs that started before this change recorded the timer
		// and replay it (the version marker tells them apart).
	default:
		tctx, cancel := c.WithCancel()
		t := tctx.NewTimer(timeout, "wait "+name)
		co.Block(func() bool { return in.hasSignal(name) || c.Err() != nil || t.IsReady() })
		if in.hasSignal(name) {
			cancel()
		} else if c.Err() == nil {
			return nil, false, nil // timed out
		}
	}
	if s, ok := in.takeSignal(name); ok {
		return s.Payload, true, nil
	}
	return nil, false, c.Err()
}

// HasSignal reports whether an event named name is buffered.
func (c *Ctx) HasSignal(name string) bool { return c.inst.hasSignal(name) }

// TakeSignal takes the oldest buffered event named name, without waiting.
func (c *Ctx) TakeSignal(name string) (payload json.RawMessage, ok bool) {
	s, ok := c.inst.takeSignal(name)
	if !ok {
		return nil, false
	}
	return s.Payload, true
}
