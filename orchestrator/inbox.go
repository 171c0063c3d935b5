package orchestrator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
)

// item is an inbox message, parsed.
type item struct {
	msg  jetstream.Msg
	kind string
	run  string
	// ev is the candidate event for Execute (results, fires, cancels).
	ev *history.Event
	// start wakes carry the client's start batch and the head it expected.
	start       history.Batch
	expectedSeq uint64
	redelivered bool
}

func parseItem(m jetstream.Msg) (*item, error) {
	h := m.Headers()
	it := &item{msg: m, kind: h.Get(hdrKind), run: h.Get(hdrRun)}
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		it.redelivered = true
	}
	switch it.kind {
	case kindStart:
		b, err := history.DecodeBatch(m.Data())
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || b[0].Type != history.TypeWorkflowStarted {
			return nil, fmt.Errorf("start message without a WorkflowStarted batch")
		}
		it.start = b
		it.expectedSeq = u64(h.Get(hdrExpectedSeq))
	case kindActivityResult:
		r, err := activities.ParseResult(h, m.Data())
		if err != nil {
			return nil, err
		}
		id, err := strconv.ParseInt(r.ActivityID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("activity id %q: %w", r.ActivityID, err)
		}
		if r.Failure == nil {
			it.ev = &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{
				ID: id, Attempt: r.Attempt, Deliveries: r.Deliveries, Result: json.RawMessage(r.Output), Duration: history.Duration(r.Duration)}}
		} else {
			it.ev = &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{
				ID: id, Attempt: r.Attempt, Deliveries: r.Deliveries, Failure: r.Failure, Duration: history.Duration(r.Duration)}}
		}
	case kindActivityTimeout:
		id := i64(h.Get(hdrActivityID))
		it.ev = &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{ID: id,
			Failure: &history.Failure{Type: history.FailureTimeout, Message: "activity schedule-to-close timeout",
				NonRetryable: true, Details: json.RawMessage(`{"kind":"schedule-to-close"}`)}}}
	case kindTimerFired:
		it.ev = &history.Event{Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: i64(h.Get(hdrTimerID))}}
	case kindCancel:
		it.ev = &history.Event{Type: history.TypeWorkflowCancelRequested, Attributes: &history.WorkflowCancelRequested{Reason: h.Get(hdrReason)}}
	case kindSignal:
		payload := m.Data()
		if len(payload) == 0 {
			payload = []byte("null")
		}
		it.ev = &history.Event{Type: history.TypeSignalReceived, Attributes: &history.SignalReceived{
			Name: h.Get(hdrSignal), ID: h.Get(hdrSignalID), Payload: json.RawMessage(payload)}}
	case kindCallback:
		ev, err := parseCallback(h, m.Data())
		if err != nil {
			return nil, err
		}
		it.ev = ev
	case kindChildClosed:
		cid := i64(h.Get(hdrChildID))
		crun := h.Get(hdrChildRun)
		if h.Get(hdrStatus) == string(history.StatusCompleted) {
			it.ev = &history.Event{Type: history.TypeChildWorkflowCompleted, Attributes: &history.ChildWorkflowCompleted{
				ID: cid, Run: crun, Result: json.RawMessage(m.Data())}}
		} else {
			var f history.Failure
			if err := json.Unmarshal(m.Data(), &f); err != nil {
				return nil, fmt.Errorf("child failure: %w", err)
			}
			it.ev = &history.Event{Type: history.TypeChildWorkflowFailed, Attributes: &history.ChildWorkflowFailed{
				ID: cid, Run: crun, Failure: &f}}
		}
	case kindWorkflowTimeout:
		it.ev = &history.Event{Type: history.TypeWorkflowTimedOut, Attributes: &history.WorkflowTimedOut{
			Timeout: history.Duration(i64(h.Get(hdrTimeout)))}}
	case kindPause:
		it.ev = &history.Event{Type: history.TypeWorkflowPaused, Attributes: &history.WorkflowPaused{
			Reason: h.Get(hdrReason), Identity: h.Get(hdrIdentity)}}
	case kindResume:
		it.ev = &history.Event{Type: history.TypeWorkflowResumed, Attributes: &history.WorkflowResumed{
			Reason: h.Get(hdrReason), Identity: h.Get(hdrIdentity)}}
	case kindTerminated, kindReset:
	default:
		return nil, fmt.Errorf("unknown inbox message kind %q", it.kind)
	}
	return it, nil
}

// newStartWake is the inbox message that asks the orchestrator to finish a
// start: it carries the start batch and the head the client expected, so
// the orchestrator can make the same conditional append if the client died
// before making it.
func newStartWake(subject string, key, run string, expected uint64, batch history.Batch) (*nats.Msg, error) {
	data, err := batch.Encode()
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(hdrKind, kindStart)
	m.Header.Set(hdrRun, run)
	m.Header.Set(hdrExpectedSeq, strconv.FormatUint(expected, 10))
	m.Header.Set(hdrMsgID, "start/"+key+"/"+run)
	return m, nil
}

func newTimerFired(subject, key, run string, timerID int64) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(hdrKind, kindTimerFired)
	m.Header.Set(hdrRun, run)
	m.Header.Set(hdrTimerID, strconv.FormatInt(timerID, 10))
	m.Header.Set(hdrMsgID, "timer/"+key+"/"+run+"/"+strconv.FormatInt(timerID, 10))
	return m
}

func newWorkflowTimeout(subject, run string, timeout time.Duration) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(hdrKind, kindWorkflowTimeout)
	m.Header.Set(hdrRun, run)
	m.Header.Set(hdrTimeout, strconv.FormatInt(int64(timeout), 10))
	return m
}

func newActivityTimeout(subject, run string, activityID int64) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(hdrKind, kindActivityTimeout)
	m.Header.Set(hdrRun, run)
	m.Header.Set(hdrActivityID, strconv.FormatInt(activityID, 10))
	return m
}

// NewCancelMsg is the inbox message that asks a run to cancel.
func newCancelMsg(subject, key, run, reason string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(hdrKind, kindCancel)
	m.Header.Set(hdrRun, run)
	m.Header.Set(hdrReason, reason)
	m.Header.Set(hdrMsgID, "cancel/"+key+"/"+run)
	return m
}

func newSignalMsg(subject, key, run, name, id string, payload []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = payload
	m.Header.Set(hdrKind, kindSignal)
	m.Header.Set(hdrRun, run)
	m.Header.Set(hdrSignal, name)
	m.Header.Set(hdrSignalID, id)
	m.Header.Set(hdrMsgID, "signal/"+key+"/"+id)
	return m
}

func newTerminatedMsg(subject, key, run string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(hdrKind, kindTerminated)
	m.Header.Set(hdrRun, run)
	m.Header.Set(hdrMsgID, "terminated/"+key+"/"+run)
	return m
}
