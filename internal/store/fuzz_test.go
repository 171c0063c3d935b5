package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/streams"
)

// Fuzz target of the inbox decoder: whoever may publish to a namespace's
// inbox subjects (clients, workers, the CloudEvents ingress, schedules)
// writes the messages ParseInbox reads, and the event it returns is
// committed to history. .ci/fuzz runs it.

// inboxSeeds are one message of every inbox kind, built as their
// publishers build them.
func inboxSeeds(f *testing.F) []*nats.Msg {
	const subj, key, run = "cairn.default.inbox.default.7.order-42", "order-42", "01J0RUN"
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	must := func(m *nats.Msg, err error) *nats.Msg {
		if err != nil {
			f.Fatal(err)
		}
		return m
	}
	start := history.Batch{{Seq: 1, Time: t0, Type: history.TypeWorkflowStarted, Attributes: &history.WorkflowStarted{
		WorkflowType: "Order", WorkflowID: key, Run: run, TaskQueue: "default", Input: json.RawMessage(`{"cents":1299}`)}}}
	callback := func(status string, data []byte) *nats.Msg {
		m := nats.NewMsg(subj)
		m.Data = data
		m.Header.Set(HeaderKind, KindCallback)
		m.Header.Set(HeaderRun, run)
		m.Header.Set(HeaderCallbackID, "4")
		m.Header.Set(HeaderCallbackNonce, "0123456789abcdef0123456789abcdef")
		m.Header.Set(HeaderStatus, status)
		return m
	}
	kind := func(k string) *nats.Msg {
		m := nats.NewMsg(subj)
		m.Header.Set(HeaderKind, k)
		m.Header.Set(HeaderRun, run)
		m.Header.Set(HeaderReason, "maintenance")
		m.Header.Set(HeaderIdentity, "ops@host")
		return m
	}
	return []*nats.Msg{
		must(NewStartWake(subj, key, run, 42, start)),
		NewTimerFired(subj, key, run, 5),
		NewWorkflowTimeout(subj, run, time.Hour),
		NewActivityTimeout(subj, run, 3),
		NewCancel(subj, key, run, "enough"),
		NewSignal(subj, key, run, "approve", "sig-1", []byte(`{"ok":true}`)),
		NewSignal(subj, key, run, "ping", "sig-2", nil),
		NewTerminated(subj, key, run),
		must(NewChildClosed(subj, key, run, 6, "01J0CHILD", json.RawMessage(`"done"`), nil)),
		must(NewChildClosed(subj, key, run, 6, "01J0CHILD", nil, &history.Failure{Type: "Boom", Message: "no"})),
		callback(CallbackSucceed, []byte(`{"approved":true}`)),
		callback(CallbackFail, []byte(`{"type":"Rejected","message":"no"}`)),
		callback(CallbackHeartbeat, nil),
		activities.NewResultMsg(subj, &activities.Result{Run: run, ActivityID: "3", Attempt: 1, Deliveries: 1, Output: []byte(`1`)}),
		activities.NewResultMsg(subj, &activities.Result{Run: run, ActivityID: "3", Attempt: 2, Failure: &history.Failure{Message: "x"}}),
		activities.NewAttemptTimerMsg("cairn.default.timer.k.r.h3.2", subj, t0,
			&activities.AttemptTimeout{Run: run, ActivityID: "3", Attempt: 2, Deliveries: 1, Kind: failure.TimeoutHeartbeat}),
		kind(KindPause), kind(KindResume), kind(KindReset),
		NewTerminateRequest(subj, key, run, "enough"),
		must(NewResetRequest(subj, key, ResetRequest{WorkflowID: key, EventSeq: 3, Reason: "again", NewRun: "01J0NEW"})),
	}
}

// FuzzParseInbox checks that ParseInbox either rejects a message or returns
// a known kind whose event (and start batch) history can store: the batch
// encodes and decodes again to the same JSON. An event that cannot be
// encoded would fail every commit of the instance's workflow task.
func FuzzParseInbox(f *testing.F) {
	for _, m := range inboxSeeds(f) {
		f.Add(testutil.NATSWireHeader(m.Header), m.Data)
	}
	f.Fuzz(func(t *testing.T, hdr, data []byte) {
		h, err := nats.DecodeHeadersMsg(hdr)
		if err != nil {
			return
		}
		in, err := ParseInbox(h, data)
		if err != nil {
			if !errors.Is(err, ErrMalformedInbox) {
				t.Fatalf("ParseInbox: error %v does not wrap ErrMalformedInbox", err)
			}
			return
		}
		switch in.Kind {
		case KindStart, KindActivityResult, KindActivityTimeout, KindAttemptTimeout, KindTimerFired, KindCancel,
			KindTerminated, KindWorkflowTimeout, KindSignal, KindChildClosed, KindCallback, KindPause, KindResume, KindReset,
			KindTerminateRequest:
		case KindResetRequest:
			if in.Reset == nil || in.Reset.NewRun == "" || in.Reset.NewRun != in.Run {
				t.Fatalf("reset request for run %q with %+v", in.Run, in.Reset)
			}
		default:
			t.Fatalf("ParseInbox accepted the unknown kind %q", in.Kind)
		}
		if in.Kind == KindStart {
			if len(in.Start) == 0 || in.Start[0] == nil || in.Start[0].Type != history.TypeWorkflowStarted {
				t.Fatalf("start wake without a WorkflowStarted batch: %+v", in.Start)
			}
			storable(t, in.Start)
		}
		if in.Event != nil {
			storable(t, history.Batch{in.Event})
		}
	})
}

// storable checks that b encodes and reads back to the same encoding.
func storable(t *testing.T, b history.Batch) {
	t.Helper()
	enc, err := b.Encode()
	if err != nil {
		t.Fatalf("event %s cannot be stored: %v", b[0].Type, err)
	}
	back, err := history.DecodeBatch(enc)
	if err != nil {
		t.Fatalf("stored event %s does not decode: %v\n%s", b[0].Type, err, enc)
	}
	enc2, err := back.Encode()
	if err != nil {
		t.Fatalf("stored event %s does not encode again: %v", b[0].Type, err)
	}
	// Compared as JSON values: a header that is not UTF-8 is stored with
	// U+FFFD escaped ("\ufffd") the first time and literal the next.
	var v1, v2 any
	if json.Unmarshal(enc, &v1) != nil || json.Unmarshal(enc2, &v2) != nil || !reflect.DeepEqual(v1, v2) {
		t.Fatalf("stored event %s does not read back the same:\n%s\n%s", b[0].Type, enc, enc2)
	}
}

// historySeeds are history messages as Append writes them: a run's first
// message, a later one, a reset's message of several batches.
func historySeeds(f *testing.F) []*nats.Msg {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	started := &history.Event{Seq: 1, Time: t0, Type: history.TypeWorkflowStarted, Attributes: &history.WorkflowStarted{
		WorkflowType: "Order", WorkflowID: "order-42", Run: "01J0RUN", TaskQueue: "default", Input: json.RawMessage(`1`)}}
	scheduled := &history.Event{Seq: 2, Time: t0, Type: history.TypeTimerStarted, Attributes: &history.TimerStarted{ID: 2}}
	fired := &history.Event{Seq: 3, Time: t0, Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: 2}}
	msg := func(status history.Status, last int64, data []byte, err error) *nats.Msg {
		if err != nil {
			f.Fatal(err)
		}
		m := nats.NewMsg("cairn.default.history.order-42")
		m.Data = data
		m.Header.Set(HeaderRun, "01J0RUN")
		m.Header.Set(HeaderStatus, string(status))
		m.Header.Set(HeaderLastEvent, strconv.FormatInt(last, 10))
		m.Header.Set(HeaderType, "Order")
		m.Header.Set(HeaderQueue, "default")
		return m
	}
	first, err := history.Batch{started, scheduled}.Encode()
	later, err2 := history.Batch{fired}.Encode()
	reset, err3 := history.Batches{{started, scheduled}, {fired}}.Encode()
	return []*nats.Msg{
		msg(history.StatusRunning, 2, first, err),
		msg(history.StatusRunning, 3, later, err2),
		msg(history.StatusRunning, 3, reset, err3),
	}
}

// FuzzHistoryMessage checks the store's reading of one history message:
// its head (checkedHead) and its batches after event last
// (checkedBatches) are either a *CorruptHistoryError, or what the engine
// relies on: a run, a valid status, type and queue; non-empty batches of
// events numbered on from last, a run beginning with WorkflowStarted.
func FuzzHistoryMessage(f *testing.F) {
	for i, m := range historySeeds(f) {
		last := uint8(0)
		if i == 1 {
			last = 2
		}
		f.Add(testutil.NATSWireHeader(m.Header), m.Data, last)
	}
	f.Fuzz(func(t *testing.T, hdr, data []byte, lastEvent uint8) {
		h, err := nats.DecodeHeadersMsg(hdr)
		if err != nil {
			return
		}
		m := streams.StoredMsg{Subject: "cairn.default.history.order-42", Seq: 7, Header: h, Data: data}
		corrupt := func(what string, err error) {
			var ce *CorruptHistoryError
			if !errors.Is(err, ErrCorruptHistory) || !errors.As(err, &ce) || ce.Seq != m.Seq || ce.WorkflowID != "order-42" {
				t.Fatalf("%s: error %v is not a *CorruptHistoryError of the message", what, err)
			}
		}
		head, err := checkedHead("order-42", m)
		if err != nil {
			corrupt("checkedHead", err)
			return
		}
		if head.Run == "" || !head.Status.Valid() || head.WorkflowType == "" || streams.ValidateQueue(head.TaskQueue) != nil {
			t.Fatalf("checkedHead accepted %+v", head)
		}
		last := int64(lastEvent)
		bs, err := checkedBatches("order-42", head, m, last)
		if err != nil {
			corrupt("checkedBatches", err)
			return
		}
		if len(bs) == 0 {
			t.Fatal("checkedBatches accepted a message without batches")
		}
		for _, b := range bs {
			if len(b) == 0 {
				t.Fatal("checkedBatches accepted an empty batch")
			}
			for _, ev := range b {
				if last == 0 && ev.Type != history.TypeWorkflowStarted {
					t.Fatalf("a run begins with %s", ev.Type)
				}
				if ev.Seq != last+1 {
					t.Fatalf("event %d follows event %d", ev.Seq, last)
				}
				last = ev.Seq
			}
		}
		storable(t, bs[len(bs)-1])
	})
}
