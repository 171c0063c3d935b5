package activities_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/failure"
)

// Fuzz targets of the activity wire protocol: task, result and attempt
// timeout messages are published by the engine and by workers in any
// language (docs/protocol.md), so their parsers take arbitrary headers and
// bodies. A fuzzed header block is decoded by the NATS client's own header
// parser, as a delivered message would be. .ci/fuzz runs every target.

// decodeHeader reads a fuzzed header block; ok is false for what the NATS
// client would not deliver as headers.
func decodeHeader(b []byte) (nats.Header, bool) {
	h, err := nats.DecodeHeadersMsg(b)
	return h, err == nil
}

func seedMsg(f *testing.F, m *nats.Msg) { f.Add(testutil.NATSWireHeader(m.Header), m.Data) }

// utcTask makes the timestamps of t comparable with reflect.DeepEqual: the
// wire carries instants, not zones.
func utcTask(t *activities.Task) *activities.Task {
	c := *t
	c.Scheduled, c.Deadline = c.Scheduled.UTC(), c.Deadline.UTC()
	return &c
}

// FuzzParseTask checks that ParseTask either rejects a message with
// ErrMalformedTask or ErrUnsupportedProtocol, or returns a task that
// NewTaskMsg encodes back into a message that parses to the same task.
func FuzzParseTask(f *testing.F) {
	full := sampleTask()
	full.Token = "q5Y0l2mXbUoWJQ3y7cN8aK1tFvHzRgLsEiPdB4xC6nM"
	seedMsg(f, activities.NewTaskMsg("cairn.default.task.orders.ChargeCard", full))
	bare := sampleTask()
	bare.StartToClose, bare.ScheduleToStart, bare.HeartbeatTimeout = 0, 0, 0
	bare.Deadline, bare.AttemptTimer, bare.TraceParent, bare.TraceState, bare.Input = time.Time{}, "", "", "", nil
	seedMsg(f, activities.NewTaskMsg("s", bare))
	odd := activities.NewTaskMsg("s", sampleTask())
	odd.Header.Set(activities.HeaderProtocol, "2")
	seedMsg(f, odd)
	odd = activities.NewTaskMsg("s", sampleTask())
	odd.Header.Set(activities.HeaderReply, "a..b")
	seedMsg(f, odd)
	f.Add([]byte("NATS/1.0\r\n\r\n"), []byte(`{}`))

	f.Fuzz(func(t *testing.T, hdr, data []byte) {
		h, ok := decodeHeader(hdr)
		if !ok {
			return
		}
		task, err := activities.ParseTask(h, data)
		if err != nil {
			if !errors.Is(err, activities.ErrMalformedTask) && !errors.Is(err, activities.ErrUnsupportedProtocol) {
				t.Fatalf("ParseTask: untyped error %v", err)
			}
			return
		}
		m := activities.NewTaskMsg("s", task)
		again, err := activities.ParseTask(m.Header, m.Data)
		if err != nil {
			t.Fatalf("ParseTask accepted %+v, but not its re-encoding %v: %v", task, m.Header, err)
		}
		if got, want := utcTask(again), utcTask(task); !reflect.DeepEqual(got, want) {
			t.Fatalf("re-encoded task differs:\n got  %+v\n want %+v", got, want)
		}
	})
}

// FuzzParseResult checks that ParseResult either rejects a message with
// ErrMalformedResult or ErrUnsupportedProtocol, or returns a result that
// NewResultMsg encodes back into a message that parses to the same result.
func FuzzParseResult(f *testing.F) {
	for _, r := range []*activities.Result{
		{Run: "01J0RUN", ActivityID: "3", Attempt: 2, Deliveries: 1, Output: []byte(`{"id":"rcpt"}`),
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Duration: 1500 * time.Millisecond,
			Token: "q5Y0l2mXbUoWJQ3y7cN8aK1tFvHzRgLsEiPdB4xC6nM"},
		{Run: "r1", ActivityID: "3", Attempt: 1, Deliveries: 2, Failure: &history.Failure{Type: "CardDeclined", Message: "no",
			NonRetryable: true, Details: json.RawMessage(`{"code":51}`), Cause: &history.Failure{Type: history.FailureGeneric, Message: "502"}}},
		{Run: "r", ActivityID: "1", Attempt: 1, AttemptTimer: "cairn.default.timer.k.r.h1.1"},
	} {
		seedMsg(f, activities.NewResultMsg("cairn.default.inbox.q.0.k", r))
	}
	f.Add([]byte("NATS/1.0\r\nCairn-Protocol: 1\r\nCairn-Kind: activity.result\r\nCairn-Status: failed\r\n\r\n"), []byte(`{"message":"x"}`))

	f.Fuzz(func(t *testing.T, hdr, data []byte) {
		h, ok := decodeHeader(hdr)
		if !ok {
			return
		}
		r, err := activities.ParseResult(h, data)
		if err != nil {
			if !errors.Is(err, activities.ErrMalformedResult) && !errors.Is(err, activities.ErrUnsupportedProtocol) {
				t.Fatalf("ParseResult: untyped error %v", err)
			}
			return
		}
		m := activities.NewResultMsg("s", r)
		again, err := activities.ParseResult(m.Header, m.Data)
		if err != nil {
			t.Fatalf("ParseResult accepted %+v, but not its re-encoding %v %q: %v", r, m.Header, m.Data, err)
		}
		// A failure's JSON is re-marshalled: compare it in that form.
		if r.Failure != nil {
			want, _ := json.Marshal(r.Failure)
			got, _ := json.Marshal(again.Failure)
			if !bytes.Equal(got, want) {
				t.Fatalf("re-encoded failure differs:\n got  %s\n want %s", got, want)
			}
			r.Failure, again.Failure = nil, nil
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("re-encoded result differs:\n got  %+v\n want %+v", again, r)
		}
	})
}

// FuzzParseAttemptTimeout checks that ParseAttemptTimeout either rejects a
// message with ErrMalformedResult or ErrUnsupportedProtocol, or returns an
// attempt timeout that NewAttemptTimerMsg encodes back to itself.
func FuzzParseAttemptTimeout(f *testing.F) {
	at := time.Date(2025, 3, 1, 12, 0, 1, 500, time.UTC)
	for _, a := range []*activities.AttemptTimeout{
		{Run: "01J0RUN", ActivityID: "3", Attempt: 2, Deliveries: 3, Kind: failure.TimeoutHeartbeat},
		{Run: "r", ActivityID: "1", Attempt: 1, Kind: failure.TimeoutStartToClose},
	} {
		seedMsg(f, activities.NewAttemptTimerMsg("cairn.default.timer.k.r.h1.1", "cairn.default.inbox.q.0.k", at, a))
	}
	seedMsg(f, activities.NewAttemptClosedMsg("cairn.default.timer.k.r.h1.1", "r", "1", 1))

	f.Fuzz(func(t *testing.T, hdr, _ []byte) {
		h, ok := decodeHeader(hdr)
		if !ok {
			return
		}
		a, err := activities.ParseAttemptTimeout(h)
		if err != nil {
			if !errors.Is(err, activities.ErrMalformedResult) && !errors.Is(err, activities.ErrUnsupportedProtocol) {
				t.Fatalf("ParseAttemptTimeout: untyped error %v", err)
			}
			return
		}
		m := activities.NewAttemptTimerMsg("s", "r", at, a)
		again, err := activities.ParseAttemptTimeout(m.Header)
		if err != nil {
			t.Fatalf("ParseAttemptTimeout accepted %+v, but not its re-encoding %v: %v", a, m.Header, err)
		}
		if !reflect.DeepEqual(again, a) {
			t.Fatalf("re-encoded attempt timeout differs:\n got  %+v\n want %+v", again, a)
		}
		if f := a.Failure(); !activities.IsAttemptTimeout(f) {
			t.Fatalf("the failure of %+v is not an attempt timeout: %+v", a, f)
		}
	})
}
