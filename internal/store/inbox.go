package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
)

// NewStartWake is the inbox message that asks the orchestrator to finish a
// start: it carries the start batch and the head the client expected, so
// the orchestrator can make the same conditional append if the client died
// before making it.
func NewStartWake(subject string, key, run string, expected uint64, batch history.Batch) (*nats.Msg, error) {
	data, err := batch.Encode()
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(HeaderKind, KindStart)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderExpectedSeq, strconv.FormatUint(expected, 10))
	m.Header.Set(HeaderMsgID, "start/"+key+"/"+run)
	return m, nil
}

func NewTimerFired(subject, key, run string, timerID int64) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindTimerFired)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderTimerID, strconv.FormatInt(timerID, 10))
	m.Header.Set(HeaderMsgID, "timer/"+key+"/"+run+"/"+strconv.FormatInt(timerID, 10))
	return m
}

func NewWorkflowTimeout(subject, run string, timeout time.Duration) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindWorkflowTimeout)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderTimeout, strconv.FormatInt(int64(timeout), 10))
	return m
}

func NewActivityTimeout(subject, run string, activityID int64) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindActivityTimeout)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderActivityID, strconv.FormatInt(activityID, 10))
	return m
}

// NewCancel is the inbox message that asks a run to cancel.
func NewCancel(subject, key, run, reason string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindCancel)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderReason, reason)
	m.Header.Set(HeaderMsgID, "cancel/"+key+"/"+run)
	return m
}

func NewSignal(subject, key, run, name, id string, payload []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = payload
	m.Header.Set(HeaderKind, KindSignal)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderSignal, name)
	m.Header.Set(HeaderSignalID, id)
	m.Header.Set(HeaderMsgID, "signal/"+key+"/"+id)
	return m
}

func NewTerminated(subject, key, run string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindTerminated)
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderMsgID, "terminated/"+key+"/"+run)
	return m
}
func NewChildClosed(subject, parentKey, parentRun string, childID int64, childRun string, result json.RawMessage, f *history.Failure) (*nats.Msg, error) {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderKind, KindChildClosed)
	m.Header.Set(HeaderRun, parentRun)
	m.Header.Set(HeaderChildID, strconv.FormatInt(childID, 10))
	m.Header.Set(HeaderChildRun, childRun)
	m.Header.Set(HeaderMsgID, "child/"+parentKey+"/"+parentRun+"/"+strconv.FormatInt(childID, 10))
	if f != nil {
		data, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		m.Header.Set(HeaderStatus, string(history.StatusFailed))
		m.Data = data
		return m, nil
	}
	m.Header.Set(HeaderStatus, string(history.StatusCompleted))
	m.Data = result
	return m, nil
}

// Inbox is an inbox message, parsed: what it asks of the instance.
type Inbox struct {
	// Kind is the message kind (KindStart, KindActivityResult, ...).
	Kind string
	// Run is the run the message is for.
	Run string
	// Event is the candidate event the message becomes (results, fires,
	// cancels, signals); nil for kinds that are not recorded as such.
	Event *history.Event
	// Start is the client's start batch, and ExpectedSeq the head it
	// expected, of a start wake.
	Start       history.Batch
	ExpectedSeq uint64
	// Reason is a terminate request's reason; Reset a reset request.
	Reason string
	Reset  *ResetRequest
}

// ParseInbox decodes an inbox message from its headers and body. A message
// of an unknown kind, or whose body does not match its kind, is an error
// wrapping ErrMalformedInbox.
func ParseInbox(h nats.Header, data []byte) (*Inbox, error) {
	in, err := parseInbox(h, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedInbox, err)
	}
	return in, nil
}

func parseInbox(h nats.Header, data []byte) (*Inbox, error) {
	// Header values become event fields (a signal's name and id, a
	// reason, a run): history stores them as JSON, which would replace
	// invalid UTF-8, so the live task and a replay would see different
	// values (a signal routed to another channel on replay).
	for k, vs := range h {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, fmt.Errorf("header %s is not valid UTF-8", k)
			}
		}
	}
	it := &Inbox{Kind: h.Get(HeaderKind), Run: h.Get(HeaderRun)}
	switch it.Kind {
	case KindStart:
		b, err := history.DecodeBatch(data)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || b[0].Type != history.TypeWorkflowStarted {
			return nil, fmt.Errorf("start message without a WorkflowStarted batch")
		}
		it.Start = b
		it.ExpectedSeq = u64(h.Get(HeaderExpectedSeq))
	case KindActivityResult:
		r, err := activities.ParseResult(h, data)
		if err != nil {
			return nil, err
		}
		id, err := strconv.ParseInt(r.ActivityID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("activity id %q: %w", r.ActivityID, err)
		}
		if r.Failure == nil {
			// ParseResult accepts a blank body as no value; history stores
			// it as null.
			output := json.RawMessage(r.Output)
			if len(bytes.TrimSpace(output)) == 0 {
				output = nil
			}
			it.Event = &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{
				ID: id, Attempt: r.Attempt, Deliveries: r.Deliveries, Result: output, Duration: history.Duration(r.Duration)}}
		} else {
			it.Event = &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{
				ID: id, Attempt: r.Attempt, Deliveries: r.Deliveries, Failure: r.Failure, Duration: history.Duration(r.Duration)}}
		}
	case KindActivityTimeout:
		id := i64(h.Get(HeaderActivityID))
		it.Event = &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{ID: id,
			Failure: &history.Failure{Type: history.FailureTimeout, Message: "activity schedule-to-close timeout",
				NonRetryable: true, Details: json.RawMessage(`{"kind":"schedule-to-close"}`)}}}
	case KindAttemptTimeout:
		a, err := activities.ParseAttemptTimeout(h)
		if err != nil {
			return nil, err
		}
		id, err := strconv.ParseInt(a.ActivityID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("activity id %q: %w", a.ActivityID, err)
		}
		// The attempt failed like any other: the executor retries it per
		// the retry policy, or ignores it if the attempt is over already.
		it.Event = &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{
			ID: id, Attempt: a.Attempt, Deliveries: a.Deliveries, Failure: a.Failure()}}
	case KindTimerFired:
		it.Event = &history.Event{Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: i64(h.Get(HeaderTimerID))}}
	case KindCancel:
		it.Event = &history.Event{Type: history.TypeWorkflowCancelRequested, Attributes: &history.WorkflowCancelRequested{Reason: h.Get(HeaderReason)}}
	case KindSignal:
		payload, err := jsonBody("signal payload", data, json.RawMessage("null"))
		if err != nil {
			return nil, err
		}
		it.Event = &history.Event{Type: history.TypeSignalReceived, Attributes: &history.SignalReceived{
			Name: h.Get(HeaderSignal), ID: h.Get(HeaderSignalID), Payload: json.RawMessage(payload)}}
	case KindCallback:
		ev, err := parseCallback(h, data)
		if err != nil {
			return nil, err
		}
		it.Event = ev
	case KindChildClosed:
		cid := i64(h.Get(HeaderChildID))
		crun := h.Get(HeaderChildRun)
		if h.Get(HeaderStatus) == string(history.StatusCompleted) {
			result, err := jsonBody("child result", data, nil)
			if err != nil {
				return nil, err
			}
			it.Event = &history.Event{Type: history.TypeChildWorkflowCompleted, Attributes: &history.ChildWorkflowCompleted{
				ID: cid, Run: crun, Result: result}}
		} else {
			var f history.Failure
			if err := json.Unmarshal(data, &f); err != nil {
				return nil, fmt.Errorf("child failure: %w", err)
			}
			it.Event = &history.Event{Type: history.TypeChildWorkflowFailed, Attributes: &history.ChildWorkflowFailed{
				ID: cid, Run: crun, Failure: &f}}
		}
	case KindWorkflowTimeout:
		it.Event = &history.Event{Type: history.TypeWorkflowTimedOut, Attributes: &history.WorkflowTimedOut{
			Timeout: history.Duration(i64(h.Get(HeaderTimeout)))}}
	case KindPause:
		it.Event = &history.Event{Type: history.TypeWorkflowPaused, Attributes: &history.WorkflowPaused{
			Reason: h.Get(HeaderReason), Identity: h.Get(HeaderIdentity)}}
	case KindResume:
		it.Event = &history.Event{Type: history.TypeWorkflowResumed, Attributes: &history.WorkflowResumed{
			Reason: h.Get(HeaderReason), Identity: h.Get(HeaderIdentity)}}
	case KindTerminateRequest:
		it.Reason = h.Get(HeaderReason)
	case KindResetRequest:
		var req ResetRequest
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, fmt.Errorf("reset request: %w", err)
		}
		if req.NewRun == "" || req.NewRun != it.Run {
			return nil, fmt.Errorf("reset request for run %q names new run %q", it.Run, req.NewRun)
		}
		it.Reset = &req
	case KindTerminated, KindReset:
	default:
		return nil, fmt.Errorf("unknown inbox message kind %q", it.Kind)
	}
	return it, nil
}

// jsonBody is the body of a message that history records as raw JSON:
// ifEmpty when it is empty (or blank), else it must be one JSON value, or
// no commit of the event could ever encode the history batch.
func jsonBody(what string, data, ifEmpty json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return ifEmpty, nil
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%s is not valid JSON", what)
	}
	return data, nil
}
