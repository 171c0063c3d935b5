package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/streams"
)

// Callback completion kinds.
const (
	CallbackSucceed   = "completed"
	CallbackFail      = "failed"
	CallbackHeartbeat = "heartbeat"
)

// CompleteCallback delivers the outcome (or a heartbeat) of a callback to
// its run. payload is the result (kind CallbackSucceed) or a
// history.Failure (CallbackFail).
//
// Exactly one decision (completion or failure) wins, whatever the timing:
// the first one creates the callback's key in the callbacks bucket, which
// the server refuses to create twice, and only then is it published. A
// repeat of the winning call (same kind, same payload) succeeds again and
// publishes the decision again under the same message id, in case the
// first caller died between the two steps; any other decision, and any
// call on a token whose wait is over (completed, failed, timed out, or its
// run closed), is rejected with ErrCallbackNotPending and nothing is
// delivered. Heartbeats decide nothing and skip the bucket.
func (s *JetStream) CompleteCallback(ctx context.Context, tok *history.CallbackToken, kind string, payload, digest []byte) error {
	switch kind {
	case CallbackSucceed, CallbackFail, CallbackHeartbeat:
	default:
		return fmt.Errorf("unknown callback kind %q", kind)
	}
	head, batches, err := s.LoadRun(ctx, tok.WorkflowID, tok.Run)
	if err != nil {
		return err
	}
	if head == nil {
		return fmt.Errorf("%w: workflow %q run %s not found", ErrCallbackNotPending, tok.WorkflowID, tok.Run)
	}
	var started *history.CallbackStarted
	state := ""
	for _, b := range batches {
		for _, ev := range b {
			switch a := ev.Attributes.(type) {
			case *history.CallbackStarted:
				if a.ID == tok.ID {
					started = a
				}
			case *history.CallbackCompleted:
				if a.ID == tok.ID {
					state = "already completed"
				}
			case *history.CallbackFailed:
				if a.ID == tok.ID {
					state = "already failed"
				}
			case *history.CallbackTimedOut:
				if a.ID == tok.ID {
					state = closedBecause(a.Reason)
				}
			}
		}
	}
	if started == nil || started.Nonce != tok.Nonce {
		return fmt.Errorf("%w: workflow %q run %s has no such callback", ErrCallbackNotPending, tok.WorkflowID, tok.Run)
	}
	closed := ""
	switch {
	case state != "":
		closed = fmt.Sprintf("callback %q of workflow %q %s", started.Name, tok.WorkflowID, state)
	case head.Status != history.StatusRunning:
		closed = fmt.Sprintf("workflow %q run %s is %s", tok.WorkflowID, tok.Run, head.Status)
	}
	id := "callback/" + s.names.InstanceKey(tok.WorkflowID) + "/" + tok.Run + "/" + strconv.FormatInt(tok.ID, 10)
	if kind == CallbackHeartbeat {
		if closed != "" {
			return fmt.Errorf("%w: %s", ErrCallbackNotPending, closed)
		}
		return s.publishCallback(ctx, tok, head.TaskQueue, kind, payload, id+"/hb/"+nuid.Next())
	}
	mine := newCallbackDecision(kind, payload, digest)
	won, err := s.decideCallback(ctx, tok, mine, closed == "")
	if err != nil {
		return err
	}
	switch {
	case won && closed == "":
		// Ours, first or again: (re)publish. Every publish of a decision
		// carries the same id, so a repeat within the duplicate window
		// is stored once, and the run ignores one that comes later.
		return s.publishCallback(ctx, tok, head.TaskQueue, kind, payload, id+"/"+mine.Digest[:16])
	case won:
		// Our decision, already delivered (or its run closed first):
		// the repeat succeeds as the first call did.
		return nil
	case closed != "":
		return fmt.Errorf("%w: %s", ErrCallbackNotPending, closed)
	default:
		return fmt.Errorf("%w: callback %q of workflow %q already decided otherwise", ErrCallbackNotPending, started.Name, tok.WorkflowID)
	}
}

// callbackDecision is the value of a key of the callbacks bucket: the
// decision that won a callback.
type callbackDecision struct {
	Kind string `json:"kind"`
	// Digest is the hex SHA-256 of the payload (the same request carries
	// the same payload), or the hex of the digest the caller gave for a
	// payload that differs on every call (an encrypted one, see
	// converter.PayloadDigester).
	Digest string `json:"digest"`
}

func newCallbackDecision(kind string, payload, digest []byte) callbackDecision {
	if digest == nil {
		sum := sha256.Sum256(payload)
		digest = sum[:]
	}
	return callbackDecision{Kind: kind, Digest: hex.EncodeToString(digest)}
}

// decideCallback records mine as the decision of the callback of tok
// unless another is recorded, and reports whether the recorded decision is
// mine. With create false (the wait is over in history), it only reads.
func (s *JetStream) decideCallback(ctx context.Context, tok *history.CallbackToken, mine callbackDecision, create bool) (bool, error) {
	kv, err := s.callbacks(ctx)
	if err != nil {
		return false, err
	}
	key := s.names.CallbackKey(tok.WorkflowID, tok.Run, tok.ID)
	val, err := json.Marshal(mine)
	if err != nil {
		return false, err
	}
	// A key that expires between the failed create and the read is
	// created on the next round.
	for range 3 {
		if create {
			_, err := kv.Create(ctx, key, val)
			if err == nil {
				return true, nil
			}
			if !errors.Is(err, jetstream.ErrKeyExists) {
				return false, fmt.Errorf("record decision of callback %d of workflow %q: %w", tok.ID, tok.WorkflowID, err)
			}
		}
		// The leader answers: a follower may not have the key yet.
		bucket := s.names.CallbacksBucket()
		m, err := streams.LastMsgFromLeader(ctx, s.nc, "KV_"+bucket, "$KV."+bucket+"."+key)
		switch {
		case errors.Is(err, streams.ErrMsgNotFound):
			if !create {
				return false, nil
			}
			continue
		case err != nil:
			return false, fmt.Errorf("read decision of callback %d of workflow %q: %w", tok.ID, tok.WorkflowID, err)
		}
		var theirs callbackDecision
		if err := json.Unmarshal(m.Data, &theirs); err != nil {
			return false, fmt.Errorf("decision of callback %d of workflow %q: %w", tok.ID, tok.WorkflowID, err)
		}
		return theirs == mine, nil
	}
	return false, fmt.Errorf("record decision of callback %d of workflow %q: key keeps vanishing", tok.ID, tok.WorkflowID)
}

// callbacks opens the callbacks bucket once.
func (s *JetStream) callbacks(ctx context.Context) (jetstream.KeyValue, error) {
	s.callbacksMu.Lock()
	defer s.callbacksMu.Unlock()
	if s.callbacksKV != nil {
		return s.callbacksKV, nil
	}
	kv, err := s.js.KeyValue(ctx, s.names.CallbacksBucket())
	if err != nil {
		return nil, fmt.Errorf("callbacks bucket %s (provision the namespace with this version): %w", s.names.CallbacksBucket(), err)
	}
	s.callbacksKV = kv
	return kv, nil
}

func (s *JetStream) publishCallback(ctx context.Context, tok *history.CallbackToken, queue, kind string, payload []byte, msgID string) error {
	m := nats.NewMsg(s.names.ClientInboxSubject(queue, tok.WorkflowID))
	m.Data = payload
	m.Header.Set(HeaderKind, KindCallback)
	m.Header.Set(HeaderRun, tok.Run)
	m.Header.Set(HeaderCallbackID, strconv.FormatInt(tok.ID, 10))
	m.Header.Set(HeaderCallbackNonce, tok.Nonce)
	m.Header.Set(HeaderStatus, kind)
	InjectTrace(ctx, m.Header)
	m.Header.Set(HeaderMsgID, msgID)
	_, err := s.publish(ctx, m)
	return err
}

// closedBecause says why the workflow stopped waiting for a callback.
func closedBecause(reason string) string {
	switch reason {
	case executor.CallbackCanceled:
		return "was canceled"
	case executor.CallbackSubmitFailed:
		return "was abandoned (its submit failed)"
	}
	return "timed out (" + reason + ")"
}

func parseCallback(h nats.Header, data []byte) (*history.Event, error) {
	id := i64(h.Get(HeaderCallbackID))
	nonce := h.Get(HeaderCallbackNonce)
	switch h.Get(HeaderStatus) {
	case CallbackSucceed:
		result, err := jsonBody("callback result", data, json.RawMessage("null"))
		if err != nil {
			return nil, err
		}
		return &history.Event{Type: history.TypeCallbackCompleted, Attributes: &history.CallbackCompleted{
			ID: id, Result: result, Nonce: nonce}}, nil
	case CallbackFail:
		var f history.Failure
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("callback failure: %w", err)
		}
		return &history.Event{Type: history.TypeCallbackFailed, Attributes: &history.CallbackFailed{ID: id, Failure: &f, Nonce: nonce}}, nil
	case CallbackHeartbeat:
		return &history.Event{Type: history.TypeCallbackHeartbeat, Attributes: &history.CallbackHeartbeat{ID: id, Nonce: nonce}}, nil
	}
	return nil, fmt.Errorf("unknown callback status %q", h.Get(HeaderStatus))
}
