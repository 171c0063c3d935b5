package executor

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/cairnhq/cairn/history"
)

type callback struct {
	attrs   *history.CallbackStarted
	done    bool
	result  json.RawMessage
	failure *history.Failure
	beats   int
}

// CallbackName returns the name of callback id ("" if none).
func (in *Instance) CallbackName(id int64) string {
	if cb := in.callbacks[id]; cb != nil {
		return cb.attrs.Name
	}
	return ""
}

// Why WaitCallback returned without a result.
const (
	CallbackTimedOut          = "timeout"
	CallbackHeartbeatTimedOut = "heartbeat"
)

// StartCallback records a callback wait and returns its attributes (with
// the nonce that makes its token unguessable: drawn from crypto/rand when
// live, read from history on replay).
func (c *Ctx) StartCallback(name string, timeout, heartbeat time.Duration) *history.CallbackStarted {
	in := c.inst
	id := int64(in.nextCmd + 1)
	var nonce string
	if !in.replaying {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce = hex.EncodeToString(b)
	}
	ev := in.command(&history.Event{Type: history.TypeCallbackStarted, Attributes: &history.CallbackStarted{
		ID: id, Name: name, Nonce: nonce, Timeout: history.Duration(timeout), HeartbeatTimeout: history.Duration(heartbeat)}})
	a := ev.Attributes.(*history.CallbackStarted)
	in.callbacks[id] = &callback{attrs: a}
	return a
}

// WaitCallback blocks until the callback completes or fails, its timeout
// or heartbeat timeout (durable timers, restarted by each heartbeat) runs
// out, or ctx is canceled. reason is CallbackTimedOut or
// CallbackHeartbeatTimedOut when it gave up.
func (c *Ctx) WaitCallback(id int64) (result json.RawMessage, f *history.Failure, reason string) {
	in := c.inst
	cb := in.callbacks[id]
	co := c.Coroutine()
	tctx, cancelTimers := c.WithCancel()
	defer cancelTimers()
	var deadline, beat interface{ IsReady() bool }
	if d := cb.attrs.Timeout.D(); d > 0 {
		deadline = tctx.NewTimer(d, "callback "+cb.attrs.Name)
	}
	hb := cb.attrs.HeartbeatTimeout.D()
	var cancelBeat func()
	armBeat := func() {
		if hb <= 0 {
			return
		}
		if cancelBeat != nil {
			cancelBeat()
		}
		bctx, cancel := tctx.WithCancel()
		cancelBeat = cancel
		beat = bctx.NewTimer(hb, "callback heartbeat "+cb.attrs.Name)
	}
	armBeat()
	for {
		seen := cb.beats
		co.Block(func() bool {
			return cb.done || c.Err() != nil || cb.beats != seen ||
				(deadline != nil && deadline.IsReady()) || (beat != nil && beat.IsReady())
		})
		switch {
		case cb.done:
			return cb.result, cb.failure, ""
		case c.Err() != nil:
			return nil, c.Err(), ""
		case deadline != nil && deadline.IsReady():
			return nil, nil, in.giveUp(cb, CallbackTimedOut)
		case beat != nil && beat.IsReady():
			return nil, nil, in.giveUp(cb, CallbackHeartbeatTimedOut)
		default:
			armBeat() // a heartbeat came
		}
	}
}

// giveUp records that the workflow stopped waiting for cb.
func (in *Instance) giveUp(cb *callback, reason string) string {
	cb.done = true
	in.command(&history.Event{Type: history.TypeCallbackTimedOut, Attributes: &history.CallbackTimedOut{ID: cb.attrs.ID, Reason: reason}})
	return reason
}

func (in *Instance) acceptCallback(id int64, nonce string) bool {
	cb := in.callbacks[id]
	return cb != nil && !cb.done && cb.attrs.Nonce == nonce
}

func (in *Instance) applyCallback(ev *history.Event) {
	switch a := ev.Attributes.(type) {
	case *history.CallbackCompleted:
		if cb := in.callbacks[a.ID]; cb != nil && !cb.done {
			cb.done, cb.result = true, a.Result
		}
	case *history.CallbackFailed:
		if cb := in.callbacks[a.ID]; cb != nil && !cb.done {
			cb.done, cb.failure = true, a.Failure
		}
	case *history.CallbackHeartbeat:
		if cb := in.callbacks[a.ID]; cb != nil && !cb.done {
			cb.beats++
		}
	}
}
