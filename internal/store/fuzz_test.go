package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/failure"
)

// Fuzz target of the inbox decoder: whoever may publish to a namespace's
// inbox subjects (clients, workers, the CloudEvents ingress, schedules)
// writes the messages ParseInbox reads, and the event it returns is
// committed to history. .ci/fuzz runs it.

// wireHeader is the NATS wire form of h (keys sorted, so seeds are stable).
func wireHeader(h nats.Header) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("NATS/1.0\r\n")
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

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
	}
}

// FuzzParseInbox checks that ParseInbox either rejects a message or returns
// a known kind whose event (and start batch) history can store: the batch
// encodes and decodes again to the same JSON. An event that cannot be
// encoded would fail every commit of the instance's workflow task.
func FuzzParseInbox(f *testing.F) {
	for _, m := range inboxSeeds(f) {
		f.Add(wireHeader(m.Header), m.Data)
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
			KindTerminated, KindWorkflowTimeout, KindSignal, KindChildClosed, KindCallback, KindPause, KindResume, KindReset:
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
