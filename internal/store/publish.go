package store

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// errCodeMsgIDInProcess is JetStream's answer (409, "duplicate message id
// is in process") on a replicated stream to a message whose Nats-Msg-Id is
// that of another publish still being replicated. It is neither a stored
// message nor a duplicate acknowledgement: asked again once the other
// publish is applied, the server answers with the duplicate's sequence (or,
// if that publish failed, stores this one). A single server applies
// publishes one at a time and never answers it, so it shows only on
// clusters: the client's start and the worker that took its start wake
// append the same batch at the same moment, for instance.
const errCodeMsgIDInProcess jetstream.ErrorCode = 10158

// In-process duplicates are replicated within milliseconds, or dropped when
// the stream's leader changes: ask again soon, for a few seconds at most.
const (
	inProcessFirstWait = 5 * time.Millisecond
	inProcessMaxWait   = 250 * time.Millisecond
	inProcessAttempts  = 25
)

// isMsgIDInProcess reports whether err is errCodeMsgIDInProcess.
func isMsgIDInProcess(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeMsgIDInProcess
}

// A publish whose reply is lost, as every publish in flight when a
// stream's leader changes, would hold its caller for JetStream's whole
// request timeout (5 s) before it is asked again. Each attempt is bounded
// by publishAttemptTimeout instead, and a timed-out one is tried again:
// every message the store publishes carries a Nats-Msg-Id, so a retry of a
// publish that was stored is a duplicate, not a second message.
const (
	publishAttemptTimeout = 2 * time.Second
	publishAttempts       = 3
)

// publish is js.PublishMsg that asks again while the server reports the
// message's id in process, so that a duplicate racing its original ends as
// a duplicate acknowledgement, as it does on a single server, and after an
// attempt whose reply did not come in time. m must carry a Nats-Msg-Id.
func (s *JetStream) publish(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	wait := inProcessFirstWait
	timeouts, inProcess := 0, 0
	for {
		actx, cancel := context.WithTimeout(ctx, publishAttemptTimeout)
		ack, err := s.js.PublishMsg(actx, m, opts...)
		cancel()
		switch {
		case err == nil || ctx.Err() != nil:
			return ack, err
		case isMsgIDInProcess(err):
			if inProcess++; inProcess == inProcessAttempts {
				return ack, err
			}
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout):
			if timeouts++; timeouts == publishAttempts {
				return ack, err
			}
			continue
		default:
			return ack, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		wait = min(2*wait, inProcessMaxWait)
	}
}
