package history

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestSummaryRunning pins the summary of a run that has just started: the
// close time (omitzero) and every optional field are left out, the
// history sequence is always written.
func TestSummaryRunning(t *testing.T) {
	s := Summary{WorkflowID: "w", WorkflowType: "T", TaskQueue: "q", Run: "r", Status: StatusRunning,
		StartTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"workflowId":"w","workflowType":"T","taskQueue":"q","run":"r","status":"running","startTime":"2026-01-02T03:04:05Z","historySeq":0}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	var got Summary
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("got %+v", got)
	}
}

// TestSummaryReadsOlderForms: summaries written before a field existed
// still read, with the field zero.
func TestSummaryReadsOlderForms(t *testing.T) {
	var s Summary
	in := `{"workflowId":"w","workflowType":"T","taskQueue":"q","run":"r","status":"completed","startTime":"2026-01-02T03:04:05Z","closeTime":"2026-01-02T03:05:05Z","historySeq":9}`
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompleted || s.CloseTime.Sub(s.StartTime) != time.Minute || s.HistorySeq != 9 ||
		s.Paused || s.Parked != nil || s.SearchAttributes != nil || s.CustomStatus != nil {
		t.Fatalf("got %+v", s)
	}
}
