package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// Golden tests of the forms around the events (golden_test.go pins the
// events themselves): the attributes of every type with no field set, the
// duration encoding, the export format and the callback token. Same files,
// same -update flag.

// TestGoldenZeroAttributes pins the form of every event type's attributes
// with no field set: which fields are left out (omitempty) and which are
// written anyway (null, 0, "", the zero time) is part of the format too.
func TestGoldenZeroAttributes(t *testing.T) {
	zero := map[EventType]any{}
	for _, typ := range eventTypesDeclared(t) {
		a, err := newAttributes(typ)
		if err != nil {
			t.Fatal(err)
		}
		zero[typ] = a
	}
	data, err := json.Marshal(zero)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "ZeroAttributes.json", data)
	var raws map[EventType]json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		t.Fatal(err)
	}
	for typ, want := range zero {
		ev := fmt.Appendf(nil, `{"seq":1,"time":"2026-03-04T05:06:07Z","type":%q,"attributes":%s}`, typ, raws[typ])
		var got Event
		if err := json.Unmarshal(ev, &got); err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if reflect.TypeOf(got.Attributes) != reflect.TypeOf(want) {
			t.Errorf("%s: decodes into %T, want %T", typ, got.Attributes, want)
		}
		// Compared by re-encoding rather than DeepEqual: StatusSet.Status
		// has no omitempty, so a nil status is written as null and reads
		// back as the raw bytes "null" (the same JSON, not the same value).
		again, err := json.Marshal(got.Attributes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, raws[typ]) {
			t.Errorf("%s: zero attributes re-encode as %s, want %s", typ, again, raws[typ])
		}
	}
}

// TestGoldenDurations pins the Duration form: a Go duration string.
func TestGoldenDurations(t *testing.T) {
	want := map[string]Duration{
		"zero":        0,
		"nanosecond":  Duration(time.Nanosecond),
		"microsecond": Duration(1500 * time.Nanosecond),
		"millisecond": Duration(250 * time.Millisecond),
		"fraction":    Duration(1500 * time.Millisecond),
		"compound":    Duration(time.Hour + 30*time.Minute + 5*time.Second),
		"days":        Duration(72 * time.Hour),
		"negative":    Duration(-3 * time.Second),
		"max":         Duration(1<<63 - 1),
		"min":         Duration(-1 << 63),
	}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "Durations.json", data)
	readsBack(t, "Durations.json", data, func(b []byte) (any, error) {
		var got map[string]Duration
		err := json.Unmarshal(b, &got)
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("durations read back as %v, want %v", got, want)
		}
		return got, err
	})
}

// TestGoldenExport pins the export form (cairn workflow history --json,
// testenv's HistoryJSON), which users keep as files to replay new code
// against. The last batch shares its time with the one before: only the
// batch index tells them apart.
func TestGoldenExport(t *testing.T) {
	second := goldenTime.Add(time.Second)
	at := func(ev *Event, tm time.Time) *Event { ev.Time = tm; return ev }
	batches := []Batch{
		{goldenEvent(t, TypeWorkflowStarted, 1)},
		{at(goldenEvent(t, TypeCallbackStarted, 2), second), at(goldenEvent(t, TypeVersionMarker, 3), second)},
		{at(goldenEvent(t, TypeCallbackCompleted, 4), second)},
	}
	data, err := json.Marshal(ExportEvents(batches))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "Export.json", data)
	got, err := ParseExport(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, batches) {
		t.Fatalf("export reads back as\n%s\nwant\n%s", dump(got), dump(batches))
	}
	// Exports are written indented; the indented file reads back to the
	// same batches (equal up to whitespace in payloads).
	readsBack(t, "Export.json", data, func(b []byte) (any, error) {
		bs, err := ParseExport(b)
		if err == nil && len(bs) != len(batches) {
			t.Errorf("the golden export reads as %d batches, want %d", len(bs), len(batches))
		}
		return ExportEvents(bs), err
	})
}

// TestGoldenCallbackToken pins the token handed to external parties; a
// change would invalidate every token outstanding.
func TestGoldenCallbackToken(t *testing.T) {
	want := CallbackToken{WorkflowID: "order-42", Run: "run-0001", ID: 7, Nonce: "0123456789abcdef0123456789abcdef"}
	type pinned struct {
		Token   string        `json:"token"`
		Decoded CallbackToken `json:"decoded"`
	}
	data, err := json.Marshal(pinned{Token: want.Encode(), Decoded: want})
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "CallbackToken.json", data)
	readsBack(t, "CallbackToken.json", data, func(b []byte) (any, error) {
		var p pinned
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, err
		}
		got, err := ParseCallbackToken(p.Token)
		if err != nil {
			return nil, err
		}
		return pinned{Token: p.Token, Decoded: *got}, nil
	})
}

// TestRoundTripEdgeValues stores values whose encoding is easy to get
// subtly wrong: integers beyond float64's exact range, every search
// attribute type and a removal, nanosecond times, a time recorded in
// another zone, payloads with characters JSON escapes.
func TestRoundTripEdgeValues(t *testing.T) {
	due := time.Date(2026, 3, 5, 5, 6, 7, 1, time.UTC)
	attrs, err := SearchAttributeMap([]SearchAttribute{
		KeywordAttr("Customer", "acme"), TextAttr("Note", "rush \"order\""), IntAttr("Qty", -1<<63),
		DoubleAttr("Total", 0.1), BoolAttr("Priority", true), DatetimeAttr("Due", due),
		KeywordsAttr("Tags", "a", "b"), KeywordsAttr("None"), UnsetAttr("Stale"),
	})
	if err != nil {
		t.Fatal(err)
	}
	start := &WorkflowStarted{WorkflowType: "T", WorkflowID: "w", Run: "r", TaskQueue: "q",
		RandomSeed: 1<<64 - 1, Input: json.RawMessage(`{"n":12345678901234567890,"s":"é\u2028"}`), SearchAttributes: attrs}
	want := Batch{
		{Seq: 1<<63 - 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC), Type: TypeWorkflowStarted, Attributes: start},
		{Seq: 2, Time: time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC), Type: TypeTimerStarted,
			Attributes: &TimerStarted{ID: 1, FireAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
	}
	data, err := want.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip gives\n%s\nwant\n%s", dump(got), dump(want))
	}
	sa := SearchAttributesOf([]Batch{got})
	if n, err := sa["Qty"].AsInt(); err != nil || n != -1<<63 {
		t.Errorf("Qty %d %v", n, err)
	}
	if d, err := sa["Due"].AsDatetime(); err != nil || !d.Equal(due) {
		t.Errorf("Due %v %v", d, err)
	}
	if _, ok := sa["Stale"]; ok {
		t.Error("a removal is listed")
	}

	// A time in another zone is stored with its offset and reads back as
	// the same instant.
	local := time.Date(2026, 1, 2, 5, 4, 5, 6, time.FixedZone("X", 2*3600))
	data, err = Batch{{Seq: 1, Time: local, Type: TypeTimerFired, Attributes: &TimerFired{ID: 1}}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"2026-01-02T05:04:05.000000006+02:00"`)) {
		t.Errorf("stored as %s", data)
	}
	if b, err := DecodeBatch(data); err != nil || !b[0].Time.Equal(local) {
		t.Errorf("read back as %v, %v", b, err)
	}

	// Payloads are JSON the engine does not interpret: they may be
	// re-escaped (encoding/json escapes <, > and & in raw messages) but
	// mean the same after the round trip.
	payload := json.RawMessage(`{"html":"<a href='x'>&</a>"}`)
	data, err = Batch{{Seq: 1, Type: TypeSignalReceived, Attributes: &SignalReceived{Name: "s", ID: "i", Payload: payload}}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBatch(data)
	if err != nil {
		t.Fatal(err)
	}
	var before, after any
	if err := json.Unmarshal(payload, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b[0].Attributes.(*SignalReceived).Payload, &after); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("payload %s read back as %s", payload, b[0].Attributes.(*SignalReceived).Payload)
	}
}

// TestCallbackNonceIsNotStored: the nonce an external party presents with a
// completion, failure or heartbeat is checked, never written to history.
func TestCallbackNonceIsNotStored(t *testing.T) {
	const nonce = "0123456789abcdef0123456789abcdef"
	for _, attrs := range []any{
		&CallbackCompleted{ID: 1, Nonce: nonce},
		&CallbackFailed{ID: 1, Nonce: nonce},
		&CallbackHeartbeat{ID: 1, Nonce: nonce},
	} {
		data, err := json.Marshal(attrs)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(nonce)) || bytes.Contains(bytes.ToLower(data), []byte("nonce")) {
			t.Errorf("%T stores its nonce: %s", attrs, data)
		}
	}
}

func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}
