package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/converter"
)

// Errors of callback completion.
var (
	// ErrInvalidToken: the string is not a callback token.
	ErrInvalidToken = store.ErrInvalidToken
	// ErrCallbackNotPending: the token's wait is over (timed out, or its
	// workflow closed), or another decision won it.
	ErrCallbackNotPending = store.ErrCallbackNotPending
)

// CompleteCallback completes the callback of token with result (see
// workflow.WaitForCallback).
//
// Exactly one decision of a callback wins, whatever the timing, even while
// the workflow's workers are stopped: the first CompleteCallback,
// CompleteCallbackRaw or FailCallback of a token (from any process, the CLI
// included). Repeating the winning call with the same result (or failure)
// succeeds again and changes nothing, so a caller that is unsure whether
// its call went through should repeat it: a caller that dies after the
// decision is recorded but before it is delivered leaves the callback
// decided and waiting for that repeat. Any other decision, and any call on
// a token whose wait is over, returns ErrCallbackNotPending and changes
// nothing. See docs/design/engine.md (Interaction).
func (c *Client) CompleteCallback(ctx context.Context, token string, result any) error {
	raw, err := c.opts.dc.ToPayload(result)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return c.completeCallback(ctx, token, store.CallbackSucceed, raw)
}

// CompleteCallbackRaw completes a callback with an encoded result.
func (c *Client) CompleteCallbackRaw(ctx context.Context, token string, result []byte) error {
	if len(result) == 0 {
		result = []byte("null")
	}
	if !json.Valid(result) {
		return fmt.Errorf("%w: callback result is not valid JSON", ErrInvalidInput)
	}
	return c.completeCallback(ctx, token, store.CallbackSucceed, result)
}

// FailCallback fails the callback of token: the workflow's wait returns an
// error of the given type and message. Like CompleteCallback, it decides
// the callback only if no other decision did.
func (c *Client) FailCallback(ctx context.Context, token, errType, message string) error {
	if errType == "" {
		errType = "CallbackFailed"
	}
	raw, _ := json.Marshal(&history.Failure{Type: errType, Message: message})
	return c.completeCallback(ctx, token, store.CallbackFail, raw)
}

// HeartbeatCallback tells the waiting workflow the party is still at work,
// restarting the wait's heartbeat timeout. It decides nothing: a callback
// decided but not yet delivered still accepts heartbeats.
func (c *Client) HeartbeatCallback(ctx context.Context, token string) error {
	return c.completeCallback(ctx, token, store.CallbackHeartbeat, nil)
}

func (c *Client) completeCallback(ctx context.Context, token, kind string, payload []byte) error {
	tok, err := history.ParseCallbackToken(token)
	if err != nil {
		return err
	}
	if len(payload) > c.opts.maxPayload {
		return fmt.Errorf("%w: callback payload is %d bytes, the limit is %d", ErrPayloadTooLarge, len(payload), c.opts.maxPayload)
	}
	var digest []byte
	if kind == store.CallbackSucceed {
		digest = c.callbackDigest(tok, payload)
	}
	return c.store.CompleteCallback(ctx, tok, kind, payload, digest)
}

// callbackDigest identifies the value of a completion whose payload is
// different on every call (an encrypted one), so that a repeated
// completion with the same value is recognised as the same decision. nil
// means the payload identifies itself; so does a payload the converter
// cannot digest (a clear one, or one under a key it lacks), which at worst
// makes a repeat count as another decision.
func (c *Client) callbackDigest(tok *history.CallbackToken, payload []byte) []byte {
	d, ok := c.opts.dc.(converter.PayloadDigester)
	if !ok {
		return nil
	}
	scope := []byte(tok.WorkflowID + "\x00" + tok.Run + "\x00" + strconv.FormatInt(tok.ID, 10))
	digest, err := d.Digest(payload, scope)
	if err != nil {
		return nil
	}
	return digest
}
