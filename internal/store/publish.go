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

// publish is js.PublishMsg that asks again while the server reports the
// message's id in process, so that a duplicate racing its original ends as
// a duplicate acknowledgement, as it does on a single server.
func (s *JetStream) publish(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	wait := inProcessFirstWait
	for attempt := 1; ; attempt++ {
		ack, err := s.js.PublishMsg(ctx, m, opts...)
		if !isMsgIDInProcess(err) || attempt == inProcessAttempts {
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
