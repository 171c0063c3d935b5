package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
)

// Callback completion kinds.
const (
	CallbackSucceed   = "completed"
	CallbackFail      = "failed"
	CallbackHeartbeat = "heartbeat"
)

// CompleteCallback delivers the outcome (or a heartbeat) of a callback to
// its run. A token whose wait is over is rejected with
// ErrCallbackNotPending and nothing is delivered. payload is the result
// (kind CallbackSucceed) or a history.Failure (CallbackFail).
func (s *JetStream) CompleteCallback(ctx context.Context, tok *history.CallbackToken, kind string, payload []byte) error {
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
	switch {
	case started == nil || started.Nonce != tok.Nonce:
		return fmt.Errorf("%w: workflow %q run %s has no such callback", ErrCallbackNotPending, tok.WorkflowID, tok.Run)
	case state != "":
		return fmt.Errorf("%w: callback %q of workflow %q %s", ErrCallbackNotPending, started.Name, tok.WorkflowID, state)
	case head.Status != history.StatusRunning:
		return fmt.Errorf("%w: workflow %q run %s is %s", ErrCallbackNotPending, tok.WorkflowID, tok.Run, head.Status)
	}
	m := nats.NewMsg(s.names.InboxSubject(head.TaskQueue, tok.WorkflowID))
	m.Data = payload
	m.Header.Set(HeaderKind, KindCallback)
	m.Header.Set(HeaderRun, tok.Run)
	m.Header.Set(HeaderCallbackID, strconv.FormatInt(tok.ID, 10))
	m.Header.Set(HeaderCallbackNonce, tok.Nonce)
	m.Header.Set(HeaderStatus, kind)
	InjectTrace(ctx, m.Header)
	id := "callback/" + s.names.InstanceKey(tok.WorkflowID) + "/" + tok.Run + "/" + strconv.FormatInt(tok.ID, 10)
	if kind == CallbackHeartbeat {
		id += "/hb/" + nuid.Next()
	}
	m.Header.Set(HeaderMsgID, id)
	_, err = s.publish(ctx, m)
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
		if len(data) == 0 {
			data = []byte("null")
		}
		return &history.Event{Type: history.TypeCallbackCompleted, Attributes: &history.CallbackCompleted{
			ID: id, Result: json.RawMessage(data), Nonce: nonce}}, nil
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
