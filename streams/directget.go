package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Headers the server puts on direct get replies.
const (
	HeaderStream     = "Nats-Stream"
	HeaderSubject    = "Nats-Subject"
	HeaderSequence   = "Nats-Sequence"
	HeaderTimeStamp  = "Nats-Time-Stamp"
	HeaderNumPending = "Nats-Num-Pending"
	HeaderLastSeq    = "Nats-Last-Sequence"
)

const (
	// directGetPrefix is the request subject prefix of direct gets. JetStream
	// domains and custom API prefixes are not supported: cairn talks to its
	// own account.
	directGetPrefix = "$JS.API.DIRECT.GET."

	// directGetBatch is the most messages one batched request returns; the
	// reader continues from where a batch stopped.
	directGetBatch = 1000

	// directGetMaxBytes caps the payload of one batch. The server would
	// otherwise use its max_pending (64 MiB), which equals the client's
	// default pending limit for a subscription and so risks a slow-consumer
	// drop in the middle of a batch.
	directGetMaxBytes = 8 << 20

	// directGetTimeout bounds one request round trip, whatever ctx
	// allows, so a request lost during a server restart fails fast and the
	// caller can retry instead of waiting out its own, longer, deadline.
	directGetTimeout = 5 * time.Second

	// preallocCap bounds the result slice sized from the server's pending
	// count, which a caller cannot control.
	preallocCap = 1 << 14

	// Status codes of direct get replies (header "Status", set by nats.go).
	statusHeader       = "Status"
	descriptionHeader  = "Description"
	statusNotFound     = "404"
	statusEndOfBatch   = "204"
	statusNoResponders = "503"
)

// StoredMsg is one message read from a stream.
type StoredMsg struct {
	// Subject is the subject the message was stored under.
	Subject string
	// Seq is its stream sequence.
	Seq uint64
	// Header holds the message's own headers plus the Nats-* headers the
	// server adds to direct get replies.
	Header nats.Header
	// Data is the payload.
	Data []byte
	// Time is when the server stored the message (UTC).
	Time time.Time
}

// directGetRequest is the JSON body of a direct get (JSApiMsgGetRequest).
type directGetRequest struct {
	Seq           uint64 `json:"seq,omitempty"`
	LastBySubject string `json:"last_by_subj,omitempty"`
	NextBySubject string `json:"next_by_subj,omitempty"`
	Batch         int    `json:"batch,omitempty"`
	MaxBytes      int    `json:"max_bytes,omitempty"`
}

// LastMsg returns the last message stored on subject in stream, using a
// direct get: no consumer is created and any replica may answer.
//
// It returns an error wrapping ErrMsgNotFound when the subject has no
// message, and ErrDirectGetUnavailable when nobody serves direct gets for
// the stream. Without a ctx deadline the request times out after 5s.
func LastMsg(ctx context.Context, nc *nats.Conn, stream, subject string) (*StoredMsg, error) {
	req, err := json.Marshal(directGetRequest{LastBySubject: subject})
	if err != nil {
		return nil, fmt.Errorf("streams: last message of %q in stream %q: %w", subject, stream, err)
	}
	rctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, directGetPrefix+stream, req)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			err = fmt.Errorf("%w: %w", ErrDirectGetUnavailable, err)
		}
		return nil, fmt.Errorf("streams: last message of %q in stream %q: %w", subject, stream, err)
	}
	if msg.Header.Get(HeaderSequence) == "" {
		if msg.Header.Get(statusHeader) == statusNotFound {
			return nil, fmt.Errorf("streams: last message of %q in stream %q: %w", subject, stream, ErrMsgNotFound)
		}
		return nil, fmt.Errorf("streams: last message of %q in stream %q: %w", subject, stream, statusError(msg))
	}
	sm, err := parseStoredMsg(msg)
	if err != nil {
		return nil, fmt.Errorf("streams: last message of %q in stream %q: %w", subject, stream, err)
	}
	return &sm, nil
}

// ReadSubject returns every message stored on subject in stream with a
// sequence >= fromSeq, in sequence order, using batched direct gets. It is
// the engine's cold-load path for a history.
//
// A subject without messages yields an empty slice and no error. A read
// that races with writers returns at least the messages stored when it
// started. Each request round trip times out after 5s unless ctx has a
// deadline.
func ReadSubject(ctx context.Context, nc *nats.Conn, stream, subject string, fromSeq uint64) ([]StoredMsg, error) {
	wrap := func(err error) error {
		return fmt.Errorf("streams: read %q from stream %q at %d: %w", subject, stream, fromSeq, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap(err)
	}
	// One subscription per read: a batch answers with many messages, which
	// the connection's shared request inbox cannot route. SUB is processed
	// before the request on the same connection, so no reply is missed.
	//
	// A channel subscription rather than SubscribeSync, whose default
	// channel preallocates 64Ki slots (512 KiB) per call. A batch is at most
	// directGetBatch messages plus the end-of-batch status, and the next
	// request is sent only after that status arrived, so this capacity can
	// never overflow (which nats.go would treat as a slow consumer and drop).
	replies := make(chan *nats.Msg, directGetBatch+8)
	inbox := nc.NewInbox()
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return nil, wrap(err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	if fromSeq == 0 {
		fromSeq = 1
	}
	var out []StoredMsg
	for seq := fromSeq; ; {
		next, more, err := readBatch(ctx, nc, replies, inbox, stream, subject, seq, &out)
		if err != nil {
			return nil, wrap(err)
		}
		if !more {
			return out, nil
		}
		seq = next
	}
}

// readBatch runs one batched request starting at seq and appends what it
// returns to out. It reports where to continue and whether the server says
// more messages remain.
func readBatch(ctx context.Context, nc *nats.Conn, replies <-chan *nats.Msg, inbox, stream, subject string, seq uint64, out *[]StoredMsg) (next uint64, more bool, err error) {
	req, err := json.Marshal(directGetRequest{
		Seq:           seq,
		NextBySubject: subject,
		Batch:         directGetBatch,
		MaxBytes:      directGetMaxBytes,
	})
	if err != nil {
		return 0, false, err
	}
	rctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := nc.PublishRequest(directGetPrefix+stream, inbox, req); err != nil {
		return 0, false, err
	}
	var got int
	var last uint64
	for {
		var msg *nats.Msg
		select {
		case msg = <-replies:
		case <-rctx.Done():
			return 0, false, rctx.Err()
		}
		// Stored messages always carry Nats-Sequence (the server sets it
		// over any header of the same name); status replies never do. Test
		// that first so that a stored message with a "Status" header of its
		// own is not mistaken for a status reply.
		if msg.Header.Get(HeaderSequence) != "" {
			sm, err := parseStoredMsg(msg)
			if err != nil {
				return 0, false, err
			}
			if *out == nil {
				*out = make([]StoredMsg, 0, initialCap(msg))
			}
			*out = append(*out, sm)
			got++
			last = sm.Seq
			continue
		}
		switch msg.Header.Get(statusHeader) {
		case statusEndOfBatch:
			pending, err := strconv.ParseUint(msg.Header.Get(HeaderNumPending), 10, 64)
			if err != nil {
				return 0, false, fmt.Errorf("end of batch: bad %s header %q: %w", HeaderNumPending, msg.Header.Get(HeaderNumPending), err)
			}
			if pending == 0 {
				return 0, false, nil
			}
			if got == 0 {
				// Cannot happen with a conforming server; guard against
				// looping forever on the same sequence.
				return 0, false, fmt.Errorf("end of batch reports %d pending but returned no message", pending)
			}
			return last + 1, true, nil
		case statusNotFound:
			// Nothing at or after seq: the subject is done.
			return 0, false, nil
		case statusNoResponders:
			return 0, false, fmt.Errorf("%w: %w", ErrDirectGetUnavailable, nats.ErrNoResponders)
		default:
			return 0, false, statusError(msg)
		}
	}
}

// initialCap sizes the result from the first message's pending count, so a
// long history is read with one allocation instead of log2(n) regrowths.
func initialCap(first *nats.Msg) int {
	n, err := strconv.ParseUint(first.Header.Get(HeaderNumPending), 10, 64)
	if err != nil {
		return 0
	}
	return int(min(n+1, preallocCap))
}

// parseStoredMsg turns a direct get reply into a StoredMsg.
func parseStoredMsg(msg *nats.Msg) (StoredMsg, error) {
	seqHdr := msg.Header.Get(HeaderSequence)
	seq, err := strconv.ParseUint(seqHdr, 10, 64)
	if err != nil {
		return StoredMsg{}, fmt.Errorf("bad %s header %q: %w", HeaderSequence, seqHdr, err)
	}
	tsHdr := msg.Header.Get(HeaderTimeStamp)
	ts, err := time.Parse(time.RFC3339Nano, tsHdr)
	if err != nil {
		return StoredMsg{}, fmt.Errorf("bad %s header %q: %w", HeaderTimeStamp, tsHdr, err)
	}
	subj := msg.Header.Get(HeaderSubject)
	if subj == "" {
		return StoredMsg{}, fmt.Errorf("missing %s header on sequence %d", HeaderSubject, seq)
	}
	return StoredMsg{
		Subject: subj,
		Seq:     seq,
		Header:  msg.Header,
		Data:    msg.Data,
		Time:    ts,
	}, nil
}

// statusError describes an unexpected status reply.
func statusError(msg *nats.Msg) error {
	status := msg.Header.Get(statusHeader)
	if status == "" {
		return errors.New("unexpected reply without status or sequence")
	}
	if d := msg.Header.Get(descriptionHeader); d != "" {
		return fmt.Errorf("direct get failed: status %s: %s", status, d)
	}
	return fmt.Errorf("direct get failed: status %s", status)
}

// withDefaultTimeout bounds one request round trip by directGetTimeout
// (or ctx's deadline, if sooner).
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, directGetTimeout)
}
