package history

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEventClassification fixes, for every event type, whether it is a
// command (matched against workflow code on replay), whether it closes the
// run, and the status it leaves the run in. A new event type must be
// classified here.
func TestEventClassification(t *testing.T) {
	tests := map[EventType]struct {
		command, close bool
		status         Status
	}{
		TypeWorkflowStarted:         {},
		TypeWorkflowCompleted:       {command: true, close: true, status: StatusCompleted},
		TypeWorkflowFailed:          {command: true, close: true, status: StatusFailed},
		TypeWorkflowCanceled:        {command: true, close: true, status: StatusCanceled},
		TypeWorkflowTerminated:      {close: true, status: StatusTerminated},
		TypeWorkflowTimedOut:        {close: true, status: StatusTimedOut},
		TypeWorkflowContinuedAsNew:  {command: true, close: true, status: StatusContinuedAsNew},
		TypeWorkflowCancelRequested: {},

		TypeActivityScheduled:       {command: true},
		TypeActivityCompleted:       {},
		TypeActivityFailed:          {},
		TypeActivityRetrying:        {},
		TypeActivityCancelRequested: {command: true},

		TypeTimerStarted:  {command: true},
		TypeTimerFired:    {},
		TypeTimerCanceled: {command: true},

		TypeStepCompleted:  {command: true},
		TypeSignalReceived: {},
		TypeStatusSet:      {command: true},

		TypeChildWorkflowScheduled: {command: true},
		TypeChildWorkflowCompleted: {},
		TypeChildWorkflowFailed:    {},
		TypeChildCancelRequested:   {command: true},

		TypeCallbackStarted:   {command: true},
		TypeCallbackCompleted: {},
		TypeCallbackFailed:    {},
		TypeCallbackHeartbeat: {},
		TypeCallbackTimedOut:  {command: true},
		TypeVersionMarker:     {command: true},

		TypeWorkflowPaused:           {},
		TypeWorkflowResumed:          {},
		TypeSearchAttributesUpserted: {command: true},
	}
	for _, typ := range eventTypesDeclared(t) {
		want, ok := tests[typ]
		if !ok {
			t.Errorf("event type %s is not classified in TestEventClassification", typ)
			continue
		}
		if want.status == "" {
			want.status = StatusRunning
		}
		ev := &Event{Type: typ}
		if got := ev.IsCommand(); got != want.command {
			t.Errorf("%s: IsCommand = %v, want %v", typ, got, want.command)
		}
		if got := ev.IsClose(); got != want.close {
			t.Errorf("%s: IsClose = %v, want %v", typ, got, want.close)
		}
		if got := StatusOf(ev); got != want.status {
			t.Errorf("%s: StatusOf = %q, want %q", typ, got, want.status)
		}
	}
	unknown := &Event{Type: "NoSuchEvent"}
	if unknown.IsCommand() || unknown.IsClose() || StatusOf(unknown) != StatusRunning {
		t.Error("an unknown event type is classified")
	}
}

// TestStatusValues pins the status strings: they are stored in summaries
// and matched by list filters.
func TestStatusValues(t *testing.T) {
	for status, want := range map[Status]string{
		StatusRunning:        "running",
		StatusCompleted:      "completed",
		StatusFailed:         "failed",
		StatusCanceled:       "canceled",
		StatusTerminated:     "terminated",
		StatusTimedOut:       "timed_out",
		StatusContinuedAsNew: "continued_as_new",
	} {
		if string(status) != want {
			t.Errorf("status %q, want %q", status, want)
		}
	}
}

func TestDecodeBatchErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"empty", ``, []string{"history: decode batch", "unexpected end of JSON input"}},
		{"not JSON", `hello`, []string{"history: decode batch", "invalid character"}},
		{"object, not array", `{"seq":1}`, []string{"history: decode batch", "cannot unmarshal object"}},
		{"event not an object", `[1]`, []string{"history: decode batch"}},
		{"truncated", `[{"seq":1,"type":"TimerFired","attributes":{"id":1}}`, []string{"history: decode batch", "unexpected end of JSON input"}},
		{"unknown event type", `[{"seq":3,"type":"NoSuchEvent","attributes":{}}]`, []string{"history: decode batch", `unknown event type "NoSuchEvent"`}},
		{"missing type", `[{"seq":3,"attributes":{"id":1}}]`, []string{`unknown event type ""`}},
		{"type not a string", `[{"seq":3,"type":7}]`, []string{"history: decode batch", "cannot unmarshal number"}},
		{"seq not a number", `[{"seq":"3","type":"TimerFired"}]`, []string{"history: decode batch", "cannot unmarshal string"}},
		{"bad time", `[{"seq":3,"time":"yesterday","type":"TimerFired"}]`, []string{"history: decode batch", "yesterday"}},
		{"attributes wrong shape", `[{"seq":7,"type":"TimerFired","attributes":[1]}]`, []string{"event 7 (TimerFired)", "cannot unmarshal array"}},
		{"attribute wrong type", `[{"seq":7,"type":"TimerFired","attributes":{"id":"one"}}]`, []string{"event 7 (TimerFired)", "TimerFired.id"}},
		{"bad duration", `[{"seq":8,"type":"WorkflowTimedOut","attributes":{"timeout":"soon"}}]`, []string{"event 8 (WorkflowTimedOut)", "history: duration", `"soon"`}},
		{"bad failure", `[{"seq":9,"type":"WorkflowFailed","attributes":{"failure":"boom"}}]`, []string{"event 9 (WorkflowFailed)", "cannot unmarshal string"}},
		{"second event bad", `[{"seq":1,"type":"TimerFired","attributes":{"id":1}},{"seq":2,"type":"Nope"}]`, []string{`unknown event type "Nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, decode := range []func([]byte) ([]Batch, error){
				func(b []byte) ([]Batch, error) { d, err := DecodeBatch(b); return []Batch{d}, err },
				DecodeBatches,
			} {
				got, err := decode([]byte(tt.in))
				if err == nil {
					t.Fatalf("%s decoded as %s", tt.in, dump(got))
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
			}
		})
	}
}

func TestDecodeBatchesErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"truncated", `[[{"seq":1,"type":"TimerFired","attributes":{"id":1}}]`, "history: decode batches"},
		{"unknown type in second batch", `[[{"seq":1,"type":"TimerFired","attributes":{"id":1}}],[{"seq":2,"type":"Nope"}]]`, `unknown event type "Nope"`},
		{"batch not an array", `[[{"seq":1,"type":"TimerFired"}],{"seq":2}]`, "history: decode batches"},
		{"number in batch", `[[1]]`, "history: decode batches"},
		{"whitespace then truncated", " \n\t[ \r\n[", "history: decode batches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBatches([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestDecodeTruncated cuts stored messages at every byte: no strict prefix
// of a stored message may decode.
func TestDecodeTruncated(t *testing.T) {
	one, err := Batch{goldenEvent(t, TypeWorkflowStarted, 1)}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	several, err := Batches{
		{goldenEvent(t, TypeActivityScheduled, 1)},
		{goldenEvent(t, TypeActivityFailed, 2)},
	}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{one, several} {
		for n := range len(data) {
			if bs, err := DecodeBatches(data[:n]); err == nil {
				t.Fatalf("prefix of %d bytes decoded: %q -> %s", n, data[:n], dump(bs))
			}
		}
		if _, err := DecodeBatches(data); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeBatchesForms(t *testing.T) {
	ev := `{"seq":1,"time":"2026-03-04T05:06:07Z","type":"TimerFired","attributes":{"id":2}}`
	tests := []struct {
		name, in string
		sizes    []int // events per decoded batch
	}{
		{"one batch", "[" + ev + "]", []int{1}},
		{"one batch, spaced", " \n[ " + ev + " , " + ev + " ]\n", []int{2}},
		{"empty batch", `[]`, []int{0}},
		{"several", "[[" + ev + "],[" + ev + "," + ev + "]]", []int{1, 2}},
		{"several, spaced", "\t[ \n [" + ev + "] , [ ] ]", []int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := DecodeBatches([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, b := range bs {
				sizes = append(sizes, len(b))
				for _, e := range b {
					if a, ok := e.Attributes.(*TimerFired); !ok || a.ID != 2 || e.Seq != 1 {
						t.Fatalf("event %+v", e)
					}
				}
			}
			if !reflect.DeepEqual(sizes, tt.sizes) {
				t.Fatalf("batch sizes %v, want %v", sizes, tt.sizes)
			}
		})
	}
}

// TestDecodeTolerates covers what a reader accepts from other writers:
// fields it does not know (written by a newer version) are ignored, and
// absent or null attributes decode as the zero attributes of the type, so
// code can always type-switch on them.
func TestDecodeTolerates(t *testing.T) {
	tests := []struct {
		name, in string
		want     *Event
	}{
		{"unknown fields", `[{"seq":5,"type":"TimerFired","extra":true,"attributes":{"id":3,"future":{"x":1}}}]`,
			&Event{Seq: 5, Type: TypeTimerFired, Attributes: &TimerFired{ID: 3}}},
		{"no attributes", `[{"seq":5,"type":"WorkflowFailed"}]`,
			&Event{Seq: 5, Type: TypeWorkflowFailed, Attributes: &WorkflowFailed{}}},
		{"null attributes", `[{"seq":5,"type":"WorkflowCompleted","attributes":null}]`,
			&Event{Seq: 5, Type: TypeWorkflowCompleted, Attributes: &WorkflowCompleted{}}},
		{"integer duration (nanoseconds)", `[{"seq":5,"type":"WorkflowTimedOut","attributes":{"timeout":1500000000}}]`,
			&Event{Seq: 5, Type: TypeWorkflowTimedOut, Attributes: &WorkflowTimedOut{Timeout: Duration(1500 * time.Millisecond)}}},
		{"time with offset", `[{"seq":5,"time":"2026-03-04T07:06:07+02:00","type":"TimerFired","attributes":{"id":1}}]`,
			&Event{Seq: 5, Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Type: TypeTimerFired, Attributes: &TimerFired{ID: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBatch([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != 1 {
				t.Fatalf("%d events", len(b))
			}
			got := b[0]
			if !got.Time.Equal(tt.want.Time) {
				t.Errorf("time %v, want %v", got.Time, tt.want.Time)
			}
			got.Time, tt.want.Time = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %s, want %s", dump(got), dump(tt.want))
			}
		})
	}
}

// TestEventUnmarshalKeepsTarget: a failed decode leaves the event as it
// was, so no half-decoded event is used.
func TestEventUnmarshalKeepsTarget(t *testing.T) {
	ev := Event{Seq: 1, Type: TypeTimerFired, Attributes: &TimerFired{ID: 1}}
	for _, in := range []string{`{"seq":2,"type":"Nope"}`, `{"seq":2,"type":"TimerFired","attributes":{"id":"x"}}`, `{`} {
		if err := json.Unmarshal([]byte(in), &ev); err == nil {
			t.Fatalf("%s decoded", in)
		}
		if ev.Seq != 1 || ev.Attributes.(*TimerFired).ID != 1 {
			t.Fatalf("%s: event changed to %+v", in, ev)
		}
	}
}

func TestBatchesEncode(t *testing.T) {
	ev := func(seq int64) *Event {
		return &Event{Seq: seq, Time: goldenTime, Type: TypeTimerFired, Attributes: &TimerFired{ID: seq}}
	}
	b := Batch{ev(1), ev(2)}
	one, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	several, err := Batches{b, {ev(3)}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// The several-batch form is the array of the one-batch forms.
	three, _ := Batch{ev(3)}.Encode()
	if want := "[" + string(one) + "," + string(three) + "]"; string(several) != want {
		t.Fatalf("Batches.Encode = %s, want %s", several, want)
	}
	// A single batch wrapped as Batches decodes as one batch either way.
	wrapped, _ := Batches{b}.Encode()
	for _, data := range [][]byte{one, wrapped} {
		got, err := DecodeBatches(data)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], b) {
			t.Fatalf("%s: %s %v", data, dump(got), err)
		}
	}
	// An event without attributes is written with null attributes.
	data, err := Batch{{Seq: 1, Time: goldenTime, Type: TypeTimerFired}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"attributes":null`)) {
		t.Fatalf("got %s", data)
	}
	// Encoding fails rather than writing a message that cannot be read.
	if _, err := (Batch{{Seq: 1, Type: TypeStatusSet, Attributes: &StatusSet{Status: json.RawMessage(`{bad`)}}}).Encode(); err == nil {
		t.Fatal("invalid raw JSON encoded")
	}
}
