package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
)

// Option configures a store (New).
type Option func(*JetStream)

// WithoutHistoryWrites makes the store append nothing to history itself: a
// start publishes its start wake and waits for the engine to append it, a
// terminate or a reset publishes a request (KindTerminateRequest,
// KindResetRequest) that the engine carries out, and waits for the head to
// show it. So a client may run with a NATS role that cannot write history
// (streams.RoleClient); what it gives up is starting, terminating and
// resetting with no engine worker serving the run's queue: the request
// then waits in the inbox, and the call ends with ErrNotConfirmed.
func WithoutHistoryWrites() Option { return func(s *JetStream) { s.viaEngine = true } }

// ErrNotConfirmed is returned by a store WithoutHistoryWrites when the
// engine has not carried out a start, terminate or reset before the
// caller's deadline (DefaultEngineWait without one): no worker serves the
// queue, or they are behind. The request stays queued and is carried out
// when one takes it (a start only if the instance has not changed since).
var ErrNotConfirmed = errors.New("not confirmed by the engine yet")

// DefaultEngineWait bounds the wait for the engine of a store
// WithoutHistoryWrites when the caller's context has no deadline.
const DefaultEngineWait = 30 * time.Second

// NewTerminateRequest asks the engine to terminate run.
func NewTerminateRequest(subject, key, run, reason string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindTerminateRequest)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderReason, reason)
	m.Header.Set(HeaderMsgID, "terminate/"+key+"/"+run)
	return m
}

// NewResetRequest asks the engine to make the reset req (NewRun set).
func NewResetRequest(subject, key string, req ResetRequest) (*nats.Msg, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindResetRequest)
	m.Header.Set(HeaderRun, req.NewRun)
	m.Header.Set(HeaderMsgID, "reset-request/"+key+"/"+req.NewRun)
	m.Data = data
	return m, nil
}

// awaitHead reads the head of an instance from the stream's leader until
// done accepts it, backing off from 10 ms to 250 ms between reads.
func (s *JetStream) awaitHead(ctx context.Context, workflowID, what string, done func(*Head) bool) (*Head, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultEngineWait)
		defer cancel()
	}
	var last error
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 250*time.Millisecond) {
		h, err := s.Head(ctx, workflowID)
		switch {
		case err == nil && done(h):
			return h, nil
		case errors.Is(err, ErrCorruptHistory):
			return nil, err
		case err != nil:
			// The server restarting, a leader moving: read again.
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return nil, fmt.Errorf("%s of %q: %w (is a worker serving its task queue?): %w (last read: %w)", what, workflowID,
					ErrNotConfirmed, ctx.Err(), last)
			}
			return nil, fmt.Errorf("%s of %q: %w (is a worker serving its task queue?): %w", what, workflowID, ErrNotConfirmed, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// terminateViaEngine asks the engine to terminate the running head and
// waits until it has.
func (s *JetStream) terminateViaEngine(ctx context.Context, workflowID string, head *Head, reason string) (*Head, error) {
	key := s.names.InstanceKey(workflowID)
	if _, err := s.publish(ctx, NewTerminateRequest(s.names.ClientInboxSubject(head.TaskQueue, workflowID), key, head.Run, reason)); err != nil {
		return nil, fmt.Errorf("terminate %q: %w", workflowID, err)
	}
	cur, err := s.awaitHead(ctx, workflowID, "terminate", func(h *Head) bool {
		return h == nil || h.Run != head.Run || h.Status != history.StatusRunning
	})
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.Run != head.Run || cur.Status != history.StatusTerminated {
		status := history.Status("")
		if cur != nil {
			status = cur.Status
		}
		return nil, fmt.Errorf("%w: %q run %s closed as %s before the terminate", ErrNotRunning, workflowID, head.Run, status)
	}
	return cur, nil
}

// resetViaEngine asks the engine to make the reset req, checked already,
// as run newRun from the current head cur, and waits until it has.
func (s *JetStream) resetViaEngine(ctx context.Context, req ResetRequest, cur *Head, newRun string, cut int64) (*ResetResult, error) {
	req.NewRun = newRun
	m, err := NewResetRequest(s.names.ClientInboxSubject(cur.TaskQueue, req.WorkflowID), s.names.InstanceKey(req.WorkflowID), req)
	if err != nil {
		return nil, err
	}
	if _, err := s.publish(ctx, m); err != nil {
		return nil, fmt.Errorf("reset %q: %w", req.WorkflowID, err)
	}
	if _, err := s.awaitHead(ctx, req.WorkflowID, "reset", func(h *Head) bool { return h != nil && h.Run == newRun }); err != nil {
		return nil, err
	}
	res := &ResetResult{Run: newRun, EventSeq: cut}
	if cur.Status == history.StatusRunning {
		res.Terminated = cur.Run
	}
	return res, nil
}
