package workflow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/internal/wf"
	"github.com/cairnhq/cairn/sdk/failure"
)

// Timeout kinds of WaitForCallback, carried in failure.TimeoutError.Kind.
const (
	// TimeoutCallback: the callback was not completed within
	// CallbackOptions.Timeout.
	TimeoutCallback = "callback"
	// TimeoutCallbackHeartbeat: the party sent no heartbeat for
	// CallbackOptions.HeartbeatTimeout.
	TimeoutCallbackHeartbeat = "callback-heartbeat"
)

// CallbackOptions bound a WaitForCallback. Negative durations are invalid
// (ErrInvalidOption).
type CallbackOptions struct {
	// Timeout bounds the whole wait (0 = none).
	Timeout time.Duration
	// HeartbeatTimeout fails the wait if the external party neither
	// completes nor heartbeats for this long (0 = none).
	HeartbeatTimeout time.Duration
}

// WaitForCallback hands an external party a token and waits for it to
// complete the callback (Step Functions' .waitForTaskToken, Lambda durable
// functions' waitForCallback). submit runs with the token as a recorded
// step, only after the callback is committed to history, so every token
// it hands out is valid: send it in an e-mail, a ticket, a message. Like
// any step it runs again (with the same token) if the worker dies before
// recording its outcome, so a submit should tolerate a repeat. The
// party completes it with client.CompleteCallback (or `cairn callback
// succeed|fail|heartbeat TOKEN`); the result is decoded into T. The token
// is opaque, unguessable and valid for this one wait only. Exactly one
// decision (completion or failure) wins: any other, and a late one, is
// rejected with client.ErrCallbackNotPending; a repeat of the winning call
// succeeds again. Timeouts fail the wait with a
// *failure.TimeoutError of kind TimeoutCallback or TimeoutCallbackHeartbeat.
// Canceling ctx (the workflow, or a scope around the wait) ends the wait
// with the cancellation error; like a timeout, or a failed submit, it
// closes the callback in history (CallbackTimedOut with reason "canceled",
// "timeout", "heartbeat" or "submit-failed"), so it is no longer pending
// and its token is rejected from then on.
// Invalid opts return an error wrapping ErrInvalidOption and record
// nothing.
func WaitForCallback[T any](ctx Context, name string, submit func(token string) error, opts CallbackOptions) (T, error) {
	var out T
	if err := opts.validate(); err != nil {
		return out, fmt.Errorf("callback %s: %w", name, err)
	}
	x := wf.Exec(ctx)
	cb, f := x.StartCallback(name, opts.Timeout, opts.HeartbeatTimeout)
	if f != nil {
		return out, wf.Err(f)
	}
	info := x.Info()
	token := history.CallbackToken{WorkflowID: info.WorkflowID, Run: info.Run, ID: cb.ID, Nonce: cb.Nonce}.Encode()
	// The token is only valid once the callback is in history: submitting
	// it earlier could hand out a token that a crash then voids.
	x.AwaitCommitted()
	if f := x.Err(); f != nil && x.CallbackClosesWhenAbandoned() {
		// Canceled meanwhile: the callback is closed, its token void.
		return out, wf.Err(f)
	}
	if _, f := x.Step("callback-submit:"+name, func() (json.RawMessage, error) { return nil, submit(token) }); f != nil {
		x.AbandonCallback(cb.ID)
		return out, failconv.FromFailure(f)
	}
	raw, f, reason := x.WaitCallback(cb.ID)
	switch {
	case reason == "timeout":
		return out, &failure.TimeoutError{Kind: TimeoutCallback, Message: "callback " + name + " not completed within " + opts.Timeout.String()}
	case reason == "heartbeat":
		return out, &failure.TimeoutError{Kind: TimeoutCallbackHeartbeat, Message: "callback " + name + " sent no heartbeat for " + opts.HeartbeatTimeout.String()}
	case f != nil:
		return out, wf.Err(f)
	}
	if len(raw) > 0 {
		if err := wf.Converter(ctx).FromPayload(raw, &out); err != nil {
			return out, err
		}
	}
	return out, nil
}
