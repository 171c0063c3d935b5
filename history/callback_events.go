package history

import "encoding/json"

// CallbackStarted records that the workflow waits for an external party to
// complete a callback (Step Functions' task token). Nonce is random and
// recorded, so the token built from it cannot be guessed and replay
// rebuilds the same token.
type CallbackStarted struct {
	ID               int64    `json:"id"`
	Name             string   `json:"name"`
	Nonce            string   `json:"nonce"`
	Timeout          Duration `json:"timeout,omitempty"`
	HeartbeatTimeout Duration `json:"heartbeatTimeout,omitempty"`
}

// CallbackCompleted records the result an external party returned.
type CallbackCompleted struct {
	ID     int64           `json:"id"`
	Result json.RawMessage `json:"result,omitempty"`
	// Nonce is checked against the wait's, never stored.
	Nonce string `json:"-"`
}

// CallbackFailed records the failure an external party returned.
type CallbackFailed struct {
	ID      int64    `json:"id"`
	Failure *Failure `json:"failure"`
	Nonce   string   `json:"-"`
}

// CallbackTimedOut records that the workflow stopped waiting for a
// callback, which closes it: Reason is "timeout" or "heartbeat" (its
// timeout or heartbeat timeout ran out), "canceled" (the context of the
// wait was canceled) or "submit-failed" (the step handing out the token
// failed). A later completion is rejected.
type CallbackTimedOut struct {
	ID     int64  `json:"id"`
	Reason string `json:"reason"`
}

// CallbackHeartbeat records that the external party is still working; it
// restarts the callback's heartbeat timeout.
type CallbackHeartbeat struct {
	ID    int64  `json:"id"`
	Nonce string `json:"-"`
}
