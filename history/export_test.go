package history

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExportEvents(t *testing.T) {
	if got := ExportEvents(nil); got == nil || len(got) != 0 {
		t.Fatalf("no batches: %#v", got)
	}
	if data, _ := json.Marshal(ExportEvents(nil)); string(data) != "[]" {
		t.Fatalf("empty export is %s, want []", data)
	}
	ev := func(seq int64) *Event {
		return &Event{Seq: seq, Time: goldenTime, Type: TypeTimerFired, Attributes: &TimerFired{ID: seq}}
	}
	got := ExportEvents([]Batch{{ev(1), ev(2)}, {}, {ev(3)}})
	var idx []int
	var seqs []int64
	for _, e := range got {
		idx, seqs = append(idx, e.Batch), append(seqs, e.Seq)
	}
	// An empty batch keeps its index: the batch numbers are positions in
	// the stored history.
	if !reflect.DeepEqual(idx, []int{0, 0, 2}) || !reflect.DeepEqual(seqs, []int64{1, 2, 3}) {
		t.Fatalf("batches %v, seqs %v", idx, seqs)
	}
	// Readers that want plain events decode an export into []*Event.
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var plain []*Event
	if err := json.Unmarshal(data, &plain); err != nil {
		t.Fatal(err)
	}
	if want := []*Event{ev(1), ev(2), ev(3)}; !reflect.DeepEqual(plain, want) {
		t.Fatalf("plain events %s", dump(plain))
	}
}

// exportEvent writes one event of an export; batch < 0 leaves "batch" out,
// as exports made before it existed did.
func exportEvent(seq int64, batch int, at time.Time) string {
	b := ""
	if batch >= 0 {
		b = `"batch":` + itoa(int64(batch)) + `,`
	}
	return `{"seq":` + itoa(seq) + `,` + b + `"time":"` + at.Format(time.RFC3339Nano) + `","type":"TimerFired","attributes":{"id":` + itoa(seq) + `}}`
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestParseExport(t *testing.T) {
	t0, t1, t2 := goldenTime, goldenTime.Add(time.Second), goldenTime.Add(2*time.Second)
	arr := func(evs ...string) string { return "[" + strings.Join(evs, ",") + "]" }
	tests := []struct {
		name string
		in   string
		want [][]int64 // seqs per batch
	}{
		{"empty", `[]`, nil},
		{"empty, spaced", " \n [ ] \n", nil},
		{"with batch index", arr(exportEvent(1, 0, t0), exportEvent(2, 1, t0), exportEvent(3, 1, t1)), [][]int64{{1}, {2, 3}}},
		{"index, not time, decides", arr(exportEvent(1, 0, t0), exportEvent(2, 0, t1), exportEvent(3, 1, t1)), [][]int64{{1, 2}, {3}}},
		{"index gaps are closed up", arr(exportEvent(1, 0, t0), exportEvent(2, 5, t1)), [][]int64{{1}, {2}}},
		{"first index not 0", arr(exportEvent(1, 3, t0), exportEvent(2, 3, t0)), [][]int64{{1, 2}}},
		{"legacy, grouped by time", arr(exportEvent(1, -1, t0), exportEvent(2, -1, t1), exportEvent(3, -1, t1), exportEvent(4, -1, t2)), [][]int64{{1}, {2, 3}, {4}}},
		{"legacy, same instant in other zone", arr(exportEvent(1, -1, t0), exportEvent(2, -1, t0.In(time.FixedZone("X", 3600)))), [][]int64{{1, 2}}},
		{"stored form", "[" + arr(exportEvent(1, -1, t0)) + "," + arr(exportEvent(2, -1, t0), exportEvent(3, -1, t1)) + "]", [][]int64{{1}, {2, 3}}},
		{"stored form, spaced", " [ \n" + arr(exportEvent(1, -1, t0)) + " ]", [][]int64{{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := ParseExport([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got [][]int64
			for _, b := range bs {
				var seqs []int64
				for _, e := range b {
					if a, ok := e.Attributes.(*TimerFired); !ok || a.ID != e.Seq {
						t.Fatalf("event %+v", e)
					}
					seqs = append(seqs, e.Seq)
				}
				got = append(got, seqs)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("batches %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseExportErrors(t *testing.T) {
	t0 := goldenTime
	tests := []struct{ name, in, want string }{
		{"empty", ``, "not a JSON array"},
		{"spaces", "  \n", "not a JSON array"},
		{"object", `{"seq":1}`, "not a JSON array"},
		{"null", `null`, "not a JSON array"},
		{"truncated", `[` + exportEvent(1, 0, t0), "history: parse export"},
		{"not events", `[1,2]`, "event 0"},
		{"unknown type", `[` + exportEvent(1, 0, t0) + `,{"seq":2,"batch":0,"type":"Nope"}]`, `event 1: history: unknown event type "Nope"`},
		{"bad batch index", `[{"seq":1,"batch":"0","type":"TimerFired","attributes":{"id":1}}]`, "event 0"},
		{"batch index goes back", `[` + exportEvent(1, 1, t0) + `,` + exportEvent(2, 0, t0) + `]`, "event 1 (seq 2) is in batch 0, after batch 1"},
		{"some events without index", `[` + exportEvent(1, 0, t0) + `,` + exportEvent(2, -1, t0) + `]`, "1 of 2 events carry a batch index"},
		{"bad stored form", `[[` + exportEvent(1, -1, t0) + `],[{"type":"Nope"}]]`, "history: parse export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := ParseExport([]byte(tt.in))
			if err == nil {
				t.Fatalf("parsed as %s", dump(bs))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestExportRoundTrip: an export reads back as the batches it was made
// from, including batches that share a time (which the legacy rebuild by
// time could not tell apart).
func TestExportRoundTrip(t *testing.T) {
	ev := func(seq int64, at time.Time) *Event {
		return &Event{Seq: seq, Time: at, Type: TypeTimerFired, Attributes: &TimerFired{ID: seq}}
	}
	want := []Batch{{ev(1, goldenTime), ev(2, goldenTime)}, {ev(3, goldenTime)}, {ev(4, goldenTime.Add(time.Millisecond))}}
	data, err := json.MarshalIndent(ExportEvents(want), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseExport(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %s", dump(got))
	}
}
