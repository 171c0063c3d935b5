package activities

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/timers"
)

// Result is the outcome of one activity attempt, as carried by a result
// message. Failure nil means the attempt completed with Output.
type Result struct {
	Run        string
	ActivityID string
	Attempt    int
	// Deliveries is how many times the attempt's task message was delivered
	// before this result was produced; more than 1 means a worker died or
	// stalled and the attempt ran again.
	Deliveries int
	// Output is the JSON result payload of a completed attempt.
	Output []byte
	// Failure is the error of a failed attempt.
	Failure     *history.Failure
	TraceParent string
	// Duration is how long the handler ran (0 = not reported).
	Duration time.Duration
	// Token is the attempt's token, copied from its task (Task.Token).
	Token string
	// AttemptTimer is the task's attempt timer subject (Task.AttemptTimer),
	// if any: the result message purges the timer's schedule as it is
	// stored, so the timer cannot fire once the attempt has its result. It
	// is not read back by ParseResult.
	AttemptTimer string
}

// MsgID is the result message's JetStream de-duplication id:
// <run>/<activity id>/<attempt>/result/<token>. A worker that re-publishes
// a result (after a lost ack, or because the attempt was redelivered and
// ran twice) does not add a second message within the duplicate window.
// The token is part of it so that a forged result, published first under
// the guessable rest of the id, cannot have the real one dropped as its
// duplicate.
func (r *Result) MsgID() string {
	id := r.Run + "/" + r.ActivityID + "/" + strconv.Itoa(r.Attempt) + "/result"
	if r.Token != "" {
		id += "/" + r.Token
	}
	return id
}

// NewResultMsg builds the result message of r, to be published with
// JetStream on the task's reply subject.
func NewResultMsg(subject string, r *Result) *nats.Msg {
	h := nats.Header{}
	h.Set(HeaderProtocol, ProtocolVersion)
	h.Set(HeaderKind, KindActivityResult)
	h.Set(HeaderRun, r.Run)
	h.Set(HeaderActivityID, r.ActivityID)
	h.Set(HeaderAttempt, strconv.Itoa(r.Attempt))
	h.Set(HeaderDeliveries, strconv.Itoa(r.Deliveries))
	setOptional(h, HeaderTraceParent, r.TraceParent)
	setOptional(h, HeaderAttemptToken, r.Token)
	if r.Duration > 0 {
		h.Set(HeaderDuration, r.Duration.String())
	}
	h.Set(headerMsgID, r.MsgID())
	if r.AttemptTimer != "" {
		h.Set(timers.HeaderScheduler, r.AttemptTimer)
		h.Set(timers.HeaderScheduleNext, timers.SchedulePurge)
	}

	data := r.Output
	if r.Failure != nil {
		h.Set(HeaderStatus, StatusFailed)
		// A Failure is strings, a bool and already-valid raw JSON, so
		// encoding cannot fail unless Details holds invalid JSON; fall back
		// to dropping Details rather than publishing an unreadable result.
		b, err := json.Marshal(r.Failure)
		if err != nil {
			f := *r.Failure
			f.Details = nil
			b, _ = json.Marshal(&f)
		}
		data = b
	} else {
		h.Set(HeaderStatus, StatusCompleted)
	}
	return &nats.Msg{Subject: subject, Header: h, Data: data}
}

// ParseResult decodes a result message. Errors wrap ErrMalformedResult, or
// ErrUnsupportedProtocol for another protocol version. A failure without a
// type gets history.FailureGeneric, so results from lenient foreign workers
// are still usable.
func ParseResult(h nats.Header, data []byte) (*Result, error) {
	p := headerParser{h: h, malformed: ErrMalformedResult}
	if err := p.protocol(); err != nil {
		return nil, err
	}
	if k := h.Get(HeaderKind); k != KindActivityResult {
		return nil, fmt.Errorf("%w: header %s: %q, want %q", ErrMalformedResult, HeaderKind, k, KindActivityResult)
	}
	r := &Result{
		Run:         p.required(HeaderRun),
		ActivityID:  p.required(HeaderActivityID),
		Attempt:     p.positiveInt(HeaderAttempt),
		Deliveries:  p.count(HeaderDeliveries),
		TraceParent: h.Get(HeaderTraceParent),
		Token:       h.Get(HeaderAttemptToken),
	}
	// The duration is informational: a foreign worker's odd value is
	// ignored rather than costing it its result.
	if d, err := time.ParseDuration(h.Get(HeaderDuration)); err == nil && d > 0 {
		r.Duration = d
	}
	status := p.required(HeaderStatus)
	if p.err != nil {
		return nil, p.err
	}
	switch status {
	case StatusCompleted:
		if !validPayload(data) {
			return nil, fmt.Errorf("%w: completed result body is not valid JSON", ErrMalformedResult)
		}
		r.Output = data
	case StatusFailed:
		var f history.Failure
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("%w: failed result body is not a failure object: %w", ErrMalformedResult, err)
		}
		if f.Type == "" {
			f.Type = history.FailureGeneric
		}
		r.Failure = &f
	default:
		return nil, fmt.Errorf("%w: header %s: %q is neither %q nor %q", ErrMalformedResult, HeaderStatus, status, StatusCompleted, StatusFailed)
	}
	return r, nil
}
