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

// Why the workflow stopped waiting for a callback: the Reason of its
// CallbackTimedOut event. WaitCallback returns the first two.
const (
	CallbackTimedOut          = "timeout"
	CallbackHeartbeatTimedOut = "heartbeat"
	// CallbackCanceled: the context of the wait was canceled (the workflow
	// was canceled, or code canceled a scope around the wait).
	CallbackCanceled = "canceled"
	// CallbackSubmitFailed: the submit step failed, so the wait never began.
	CallbackSubmitFailed = "submit-failed"
)

// StartCallback records a callback wait and returns its attributes (with
// the nonce that makes its token unguessable: drawn from crypto/rand when
// live, read from history on replay). A canceled ctx records nothing and
// returns its failure. Canceling ctx later closes the callback at once
// (CallbackTimedOut, reason CallbackCanceled), as it cancels a timer: the
// cancel is applied at a point replay reproduces, so the close is recorded
// there too, and a late completion is rejected.
func (c *Ctx) StartCallback(name string, timeout, heartbeat time.Duration) (*history.CallbackStarted, *history.Failure) {
	in := c.inst
	if err := c.Err(); err != nil && c.CallbackClosesWhenAbandoned() {
		return nil, err
	}
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
	cb := &callback{attrs: a}
	in.callbacks[id] = cb
	c.onCancel(func() {
		if cb.done || !c.CallbackClosesWhenAbandoned() {
			return
		}
		in.giveUp(cb, CallbackCanceled)
		cb.failure = c.Err()
	})
	return a, nil
}

// callbackClosesWhenAbandoned is the internal change after which a
// callback wait that ends without a result (canceled, or its submit step
// failed) closes the callback in history. Runs from before it did not
// record that close, and replay them unchanged.
const callbackClosesWhenAbandoned = "cairn.callback-closes-when-abandoned"

// CallbackClosesWhenAbandoned reports whether the run follows that change
// (recording the version marker the first time a run reaches it).
func (c *Ctx) CallbackClosesWhenAbandoned() bool {
	return c.GetVersion(callbackClosesWhenAbandoned, DefaultVersion, 1) == 1
}

// AbandonCallback closes callback id without waiting for it (reason
// CallbackSubmitFailed): its submit step failed. A closed callback is left
// as it is.
func (c *Ctx) AbandonCallback(id int64) {
	if cb := c.inst.callbacks[id]; cb != nil && !cb.done && c.CallbackClosesWhenAbandoned() {
		c.inst.giveUp(cb, CallbackSubmitFailed)
	}
}

// WaitCallback blocks until the callback completes or fails, its timeout
// or heartbeat timeout (durable timers, restarted by each heartbeat) runs
// out, or ctx is canceled (the failure is then the cancellation). reason
// is CallbackTimedOut or CallbackHeartbeatTimedOut when it gave up.
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
			// ctx is not the one the callback started under: close it here.
			if c.CallbackClosesWhenAbandoned() {
				in.giveUp(cb, CallbackCanceled)
			}
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
