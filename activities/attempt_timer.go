package activities

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/timers"
)

// The attempt timer is how the engine enforces an attempt's start-to-close
// and heartbeat timeouts when the worker running it dies: only the worker
// knows when the attempt started and when it last heartbeat, so the worker
// arms a durable schedule (a message schedule on the subject the task names
// in HeaderAttemptTimer) before it runs the activity and rolls it forward on
// heartbeats. If the worker stops, the schedule fires an attempt timeout
// message into the instance's inbox, and the engine records the attempt as
// timed out and retries it per its retry policy. The result message purges
// the schedule as it is stored (Result.AttemptTimer).

// Kinds of the messages around the attempt timer (HeaderKind).
const (
	// KindAttemptTimeout is the message the attempt timer fires into the
	// instance's inbox: the attempt timed out (HeaderTimeoutKind says how).
	KindAttemptTimeout = "activity.attempt.timeout"
	// KindAttemptClosed marks an attempt the engine closed without its
	// worker's result (it timed out): the engine writes it on the attempt
	// timer's subject, in place of the schedule. A worker that is handed the
	// attempt's task again finds it there and need not run the attempt.
	KindAttemptClosed = "activity.attempt.closed"
)

// AttemptTimeout is an attempt timeout message: which attempt of which
// activity timed out, and how.
type AttemptTimeout struct {
	Run        string
	ActivityID string
	Attempt    int
	// Deliveries is the delivery of the attempt's task that armed the
	// timer last.
	Deliveries int
	// Kind is failure.TimeoutHeartbeat or failure.TimeoutStartToClose.
	Kind string
	// Token is the attempt's token, copied from its task (Task.Token).
	Token string
}

// NewAttemptTimerMsg builds the schedule message of an attempt's timer: on
// subject (the task's HeaderAttemptTimer), due at at, it publishes the
// attempt timeout a to reply (the task's HeaderReply). Publishing it again
// moves the timer (the server keeps one schedule per subject). It carries
// no Nats-Msg-Id: the schedule would take it, and its moves would be
// dropped as duplicates.
func NewAttemptTimerMsg(subject, reply string, at time.Time, a *AttemptTimeout) *nats.Msg {
	h := nats.Header{}
	h.Set(HeaderProtocol, ProtocolVersion)
	h.Set(HeaderKind, KindAttemptTimeout)
	h.Set(HeaderRun, a.Run)
	h.Set(HeaderActivityID, a.ActivityID)
	h.Set(HeaderAttempt, strconv.Itoa(a.Attempt))
	h.Set(HeaderDeliveries, strconv.Itoa(a.Deliveries))
	h.Set(HeaderTimeoutKind, a.Kind)
	setOptional(h, HeaderAttemptToken, a.Token)
	return timers.NewScheduleMsg(subject, reply, at, h, nil)
}

// ParseAttemptTimeout decodes an attempt timeout message. Errors wrap
// ErrMalformedResult (it takes a result's place), or ErrUnsupportedProtocol.
func ParseAttemptTimeout(h nats.Header) (*AttemptTimeout, error) {
	p := headerParser{h: h, malformed: ErrMalformedResult}
	if err := p.protocol(); err != nil {
		return nil, err
	}
	if k := h.Get(HeaderKind); k != KindAttemptTimeout {
		return nil, fmt.Errorf("%w: header %s: %q, want %q", ErrMalformedResult, HeaderKind, k, KindAttemptTimeout)
	}
	a := &AttemptTimeout{
		Run:        p.required(HeaderRun),
		ActivityID: p.required(HeaderActivityID),
		Attempt:    p.positiveInt(HeaderAttempt),
		Deliveries: p.count(HeaderDeliveries),
		Kind:       p.required(HeaderTimeoutKind),
		Token:      h.Get(HeaderAttemptToken),
	}
	if p.err != nil {
		return nil, p.err
	}
	if a.Kind != failure.TimeoutHeartbeat && a.Kind != failure.TimeoutStartToClose {
		return nil, fmt.Errorf("%w: header %s: %q is neither %q nor %q", ErrMalformedResult, HeaderTimeoutKind, a.Kind,
			failure.TimeoutHeartbeat, failure.TimeoutStartToClose)
	}
	return a, nil
}

// Failure is the failure the engine records for the timed-out attempt: a
// retryable cairn.Timeout of its kind.
func (a *AttemptTimeout) Failure() *history.Failure {
	msg := fmt.Sprintf("activity attempt %d did not finish within its start-to-close timeout (detected by the engine's attempt timer)", a.Attempt)
	if a.Kind == failure.TimeoutHeartbeat {
		msg = fmt.Sprintf("activity attempt %d sent no heartbeat within its heartbeat timeout (detected by the engine's attempt timer)", a.Attempt)
	}
	return (&failure.TimeoutError{Kind: a.Kind, Message: msg}).Failure()
}

// NewAttemptClosedMsg builds the marker the engine writes on an attempt
// timer's subject once it has closed the attempt without its worker's
// result. It rolls the subject up, so it also cancels a schedule that a
// worker still running the attempt may have moved there since.
func NewAttemptClosedMsg(subject, run, activityID string, attempt int) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderProtocol, ProtocolVersion)
	m.Header.Set(HeaderKind, KindAttemptClosed)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderActivityID, activityID)
	m.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	m.Header.Set(headerRollup, rollupSubject)
	return m
}

// IsAttemptClosed reports whether a message read from an attempt timer's
// subject is the engine's closed marker (NewAttemptClosedMsg), rather than
// the schedule of a worker running the attempt.
func IsAttemptClosed(h nats.Header) bool { return h.Get(HeaderKind) == KindAttemptClosed }

// IsAttemptTimeout reports whether f is a timeout that ends one attempt
// only (start-to-close or heartbeat), the kinds the attempt timer reports.
func IsAttemptTimeout(f *history.Failure) bool {
	if f == nil || f.Type != history.FailureTimeout || len(f.Details) == 0 {
		return false
	}
	var d struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(f.Details, &d) != nil {
		return false
	}
	return d.Kind == failure.TimeoutHeartbeat || d.Kind == failure.TimeoutStartToClose
}
