package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// msgGetPrefix is the request subject prefix of the stream message get API,
// which only the stream's leader answers (unlike direct gets).
const msgGetPrefix = "$JS.API.STREAM.MSG.GET."

// errCodeClusterNotAvailable is JetStream's "system temporarily
// unavailable" (503, 10008): no meta or stream leader to answer yet.
const errCodeClusterNotAvailable jetstream.ErrorCode = 10008

// msgGetResponse is the reply of the stream message get API.
type msgGetResponse struct {
	Error   *jetstream.APIError `json:"error,omitempty"`
	Message *struct {
		Subject string    `json:"subject"`
		Seq     uint64    `json:"seq"`
		Header  []byte    `json:"hdrs,omitempty"`
		Data    []byte    `json:"data,omitempty"`
		Time    time.Time `json:"time"`
	} `json:"message,omitempty"`
}

// LastMsgFromLeader is LastMsg answered by the stream's leader: it reflects
// every message the stream has acknowledged. A direct get (LastMsg) is
// answered by any replica of a replicated stream, and a replica may not
// have applied the latest writes yet; the engine reads an instance's head
// here before it acts on it. It costs the same round trip, but it waits
// out a leader election instead of being answered by a follower.
//
// It returns an error wrapping ErrMsgNotFound when the subject has no
// message. Without a ctx deadline the request times out after 5s.
func LastMsgFromLeader(ctx context.Context, nc *nats.Conn, stream, subject string) (*StoredMsg, error) {
	wrap := func(err error) error {
		return fmt.Errorf("streams: last message of %q in stream %q from its leader: %w", subject, stream, err)
	}
	req, err := json.Marshal(directGetRequest{LastBySubject: subject})
	if err != nil {
		return nil, wrap(err)
	}
	rctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var resp msgGetResponse
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		reply, err := nc.RequestWithContext(rctx, msgGetPrefix+stream, req)
		if err != nil {
			return nil, wrap(err)
		}
		resp = msgGetResponse{}
		if err := json.Unmarshal(reply.Data, &resp); err != nil {
			return nil, wrap(err)
		}
		if resp.Error == nil || resp.Error.ErrorCode != errCodeClusterNotAvailable {
			break
		}
		// The cluster has no leader to answer yet (a node just came back,
		// an election is under way): the answer is on its way, not wrong.
		select {
		case <-rctx.Done():
			return nil, wrap(resp.Error)
		case <-time.After(wait):
		}
	}
	if resp.Error != nil {
		if resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound {
			return nil, wrap(ErrMsgNotFound)
		}
		return nil, wrap(resp.Error)
	}
	if resp.Message == nil {
		return nil, wrap(errors.New("reply without message"))
	}
	m := resp.Message
	sm := StoredMsg{Subject: m.Subject, Seq: m.Seq, Data: m.Data}
	if len(m.Header) > 0 {
		if sm.Header, err = nats.DecodeHeadersMsg(m.Header); err != nil {
			return nil, wrap(err)
		}
	}
	sm.Time = m.Time.UTC()
	return &sm, nil
}
