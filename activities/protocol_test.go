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
	"github.com/cairnhq/cairn/sdk/failure"
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
		AttemptTimer:    "cairn.default.timer.order=2042.01J0RUN.h3.2",
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
	in.Deadline, in.TraceParent, in.TraceState, in.AttemptTimer = time.Time{}, "", "", ""
	in.Input = nil
	msg := activities.NewTaskMsg("s", in)
	for _, h := range []string{activities.HeaderStartToClose, activities.HeaderScheduleToStart, activities.HeaderHeartbeatTimeout,
		activities.HeaderDeadline, activities.HeaderTraceParent, activities.HeaderTraceState, activities.HeaderAttemptTimer} {
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
		{"wildcard attempt timer", func(h nats.Header) []byte { h.Set(activities.HeaderAttemptTimer, "cairn.*.timer"); return nil }, activities.ErrMalformedTask},
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

func TestResultPurgesTheAttemptTimer(t *testing.T) {
	r := &activities.Result{Run: "r", ActivityID: "3", Attempt: 2, Deliveries: 1, Output: []byte(`1`)}
	if m := activities.NewResultMsg("reply", r); m.Header.Get("Nats-Scheduler") != "" || m.Header.Get("Nats-Schedule-Next") != "" {
		t.Fatalf("result without attempt timer carries purge headers: %v", m.Header)
	}
	r.AttemptTimer = "cairn.default.timer.k.r.h3.2"
	m := activities.NewResultMsg("reply", r)
	if m.Header.Get("Nats-Scheduler") != r.AttemptTimer || m.Header.Get("Nats-Schedule-Next") != "purge" {
		t.Fatalf("result headers %v", m.Header)
	}
	back, err := activities.ParseResult(m.Header, m.Data)
	if err != nil || back.Attempt != 2 || string(back.Output) != "1" {
		t.Fatalf("parse %+v %v", back, err)
	}
}

func TestAttemptTimerRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 1, 500, time.UTC)
	in := &activities.AttemptTimeout{Run: "01J0RUN", ActivityID: "3", Attempt: 2, Deliveries: 3, Kind: failure.TimeoutHeartbeat}
	m := activities.NewAttemptTimerMsg("cairn.default.timer.k.01J0RUN.h3.2", "cairn.default.inbox.q.k", at, in)
	want := map[string]string{"Nats-Schedule": "@at 2025-03-01T12:00:01.0000005Z", "Nats-Schedule-Target": "cairn.default.inbox.q.k",
		"Cairn-Protocol": "1", "Cairn-Kind": "activity.attempt.timeout", "Cairn-Run": "01J0RUN", "Cairn-Activity-Id": "3",
		"Cairn-Attempt": "2", "Cairn-Deliveries": "3", "Cairn-Timeout-Kind": "heartbeat", "Nats-Msg-Id": ""}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if m.Subject != "cairn.default.timer.k.01J0RUN.h3.2" || len(m.Data) != 0 {
		t.Errorf("message %s %q", m.Subject, m.Data)
	}
	out, err := activities.ParseAttemptTimeout(m.Header)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n got  %+v\n want %+v", out, in)
	}
	f := out.Failure()
	if f.Type != history.FailureTimeout || f.NonRetryable || !activities.IsAttemptTimeout(f) {
		t.Fatalf("failure %+v", f)
	}

	for name, mutate := range map[string]func(h nats.Header){
		"no kind":           func(h nats.Header) { h.Del(activities.HeaderTimeoutKind) },
		"schedule-to-close": func(h nats.Header) { h.Set(activities.HeaderTimeoutKind, failure.TimeoutScheduleToClose) },
		"no attempt":        func(h nats.Header) { h.Del(activities.HeaderAttempt) },
		"a result":          func(h nats.Header) { h.Set(activities.HeaderKind, activities.KindActivityResult) },
	} {
		h := nats.Header{}
		for k, v := range m.Header {
			h[k] = append([]string(nil), v...)
		}
		mutate(h)
		if _, err := activities.ParseAttemptTimeout(h); !errors.Is(err, activities.ErrMalformedResult) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestAttemptClosedMark(t *testing.T) {
	m := activities.NewAttemptClosedMsg("cairn.default.timer.k.r.h3.2", "r", "3", 2)
	if !activities.IsAttemptClosed(m.Header) || m.Header.Get("Nats-Rollup") != "sub" || m.Header.Get("Nats-Schedule") != "" {
		t.Fatalf("mark %v", m.Header)
	}
	sched := activities.NewAttemptTimerMsg("s", "t", time.Now(), &activities.AttemptTimeout{Kind: failure.TimeoutHeartbeat})
	if activities.IsAttemptClosed(sched.Header) {
		t.Fatal("a schedule reads as closed")
	}
	for _, f := range []*history.Failure{nil, {Type: "X"}, {Type: history.FailureTimeout},
		{Type: history.FailureTimeout, Details: json.RawMessage(`{"kind":"schedule-to-close"}`)}} {
		if activities.IsAttemptTimeout(f) {
			t.Errorf("IsAttemptTimeout(%+v)", f)
		}
	}
}
