package activities_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
)

func sampleTask() *activities.Task {
	return &activities.Task{
		ActivityAttempt: history.ActivityAttempt{
			Namespace:        "default",
			WorkflowID:       "order 42/für Müller",
			Run:              "01J0RUN",
			WorkflowType:     "OrderWorkflow",
			ActivityID:       "3",
			ActivityType:     "ChargeCard",
			Attempt:          2,
			Scheduled:        time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC),
			HeartbeatTimeout: 10 * time.Second,
			Deadline:         time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC),
		},
		Reply:           "cairn.default.inbox.orders.order=2042",
		StartToClose:    30 * time.Second,
		ScheduleToStart: time.Minute,
		Input:           []byte(`{"cents":1299}`),
		TraceParent:     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		TraceState:      "vendor=x",
	}
}

func TestTaskRoundTrip(t *testing.T) {
	in := sampleTask()
	msg := activities.NewTaskMsg("cairn.default.task.orders.ChargeCard", in)
	if got := msg.Header.Get("Nats-Msg-Id"); got != "default/order 42/für Müller/01J0RUN/3/2" {
		t.Fatalf("Nats-Msg-Id = %q", got)
	}
	if got := msg.Header.Get(activities.HeaderStartToClose); got != "30s" {
		t.Fatalf("%s = %q", activities.HeaderStartToClose, got)
	}
	out, err := activities.ParseTask(msg.Header, msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n got  %+v\n want %+v", out, in)
	}
}

func TestTaskOptionalHeadersOmitted(t *testing.T) {
	in := sampleTask()
	in.StartToClose, in.ScheduleToStart, in.HeartbeatTimeout = 0, 0, 0
	in.Deadline, in.TraceParent, in.TraceState = time.Time{}, "", ""
	in.Input = nil
	msg := activities.NewTaskMsg("s", in)
	for _, h := range []string{activities.HeaderStartToClose, activities.HeaderScheduleToStart, activities.HeaderHeartbeatTimeout,
		activities.HeaderDeadline, activities.HeaderTraceParent, activities.HeaderTraceState} {
		if _, ok := msg.Header[h]; ok {
			t.Errorf("header %s set for a zero field", h)
		}
	}
	out, err := activities.ParseTask(msg.Header, msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n got  %+v\n want %+v", out, in)
	}
}

func TestParseTaskMalformed(t *testing.T) {
	valid := activities.NewTaskMsg("s", sampleTask())
	tests := []struct {
		name   string
		mutate func(h nats.Header) []byte
		want   error
	}{
		{"no protocol", func(h nats.Header) []byte { h.Del(activities.HeaderProtocol); return nil }, activities.ErrMalformedTask},
		{"future protocol", func(h nats.Header) []byte { h.Set(activities.HeaderProtocol, "2"); return nil }, activities.ErrUnsupportedProtocol},
		{"no run", func(h nats.Header) []byte { h.Del(activities.HeaderRun); return nil }, activities.ErrMalformedTask},
		{"no reply", func(h nats.Header) []byte { h.Del(activities.HeaderReply); return nil }, activities.ErrMalformedTask},
		{"wildcard reply", func(h nats.Header) []byte { h.Set(activities.HeaderReply, "cairn.>"); return nil }, activities.ErrMalformedTask},
		{"attempt zero", func(h nats.Header) []byte { h.Set(activities.HeaderAttempt, "0"); return nil }, activities.ErrMalformedTask},
		{"attempt text", func(h nats.Header) []byte { h.Set(activities.HeaderAttempt, "two"); return nil }, activities.ErrMalformedTask},
		{"bad scheduled", func(h nats.Header) []byte { h.Set(activities.HeaderScheduled, "yesterday"); return nil }, activities.ErrMalformedTask},
		{"bad duration", func(h nats.Header) []byte { h.Set(activities.HeaderStartToClose, "30"); return nil }, activities.ErrMalformedTask},
		{"negative duration", func(h nats.Header) []byte { h.Set(activities.HeaderHeartbeatTimeout, "-1s"); return nil }, activities.ErrMalformedTask},
		{"bad deadline", func(h nats.Header) []byte { h.Set(activities.HeaderDeadline, "soon"); return nil }, activities.ErrMalformedTask},
		{"body not JSON", func(nats.Header) []byte { return []byte("{oops") }, activities.ErrMalformedTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := nats.Header{}
			for k, v := range valid.Header {
				h[k] = append([]string(nil), v...)
			}
			data := valid.Data
			if b := tt.mutate(h); b != nil {
				data = b
			}
			_, err := activities.ParseTask(h, data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseTask error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestResultRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   *activities.Result
	}{
		{"completed", &activities.Result{Run: "r1", ActivityID: "3", Attempt: 2, Deliveries: 1,
			Output: []byte(`{"id":"rcpt"}`), TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
		{"failed", &activities.Result{Run: "r1", ActivityID: "3", Attempt: 1, Deliveries: 2,
			Failure: &history.Failure{Type: "CardDeclined", Message: "no", NonRetryable: true,
				Details: json.RawMessage(`{"code":51}`), Cause: &history.Failure{Type: history.FailureGeneric, Message: "502"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := activities.NewResultMsg("cairn.default.inbox.q.k", tt.in)
			if got, want := msg.Header.Get("Nats-Msg-Id"), "r1/3/"+msg.Header.Get(activities.HeaderAttempt)+"/result"; got != want {
				t.Fatalf("Nats-Msg-Id = %q, want %q", got, want)
			}
			if got := msg.Header.Get(activities.HeaderKind); got != activities.KindActivityResult {
				t.Fatalf("Cairn-Kind = %q", got)
			}
			out, err := activities.ParseResult(msg.Header, msg.Data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.in) {
				t.Fatalf("round trip:\n got  %+v\n want %+v", out, tt.in)
			}
		})
	}
}

func TestParseResultMalformed(t *testing.T) {
	base := func() *nats.Msg {
		return activities.NewResultMsg("s", &activities.Result{Run: "r", ActivityID: "1", Attempt: 1, Deliveries: 1, Output: []byte("1")})
	}
	tests := []struct {
		name   string
		mutate func(m *nats.Msg)
		want   error
	}{
		{"wrong kind", func(m *nats.Msg) { m.Header.Set(activities.HeaderKind, "timer.fired") }, activities.ErrMalformedResult},
		{"bad status", func(m *nats.Msg) { m.Header.Set(activities.HeaderStatus, "done") }, activities.ErrMalformedResult},
		{"no attempt", func(m *nats.Msg) { m.Header.Del(activities.HeaderAttempt) }, activities.ErrMalformedResult},
		{"output not JSON", func(m *nats.Msg) { m.Data = []byte("{") }, activities.ErrMalformedResult},
		{"failure not an object", func(m *nats.Msg) {
			m.Header.Set(activities.HeaderStatus, activities.StatusFailed)
			m.Data = []byte(`[1]`)
		}, activities.ErrMalformedResult},
		{"other protocol", func(m *nats.Msg) { m.Header.Set(activities.HeaderProtocol, "7") }, activities.ErrUnsupportedProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.mutate(m)
			if _, err := activities.ParseResult(m.Header, m.Data); !errors.Is(err, tt.want) {
				t.Fatalf("ParseResult error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseResultUntypedFailure(t *testing.T) {
	m := activities.NewResultMsg("s", &activities.Result{Run: "r", ActivityID: "1", Attempt: 1, Failure: &history.Failure{Message: "x"}})
	r, err := activities.ParseResult(m.Header, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failure.Type != history.FailureGeneric {
		t.Fatalf("type = %q, want %q", r.Failure.Type, history.FailureGeneric)
	}
}
