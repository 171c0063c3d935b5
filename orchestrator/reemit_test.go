package orchestrator

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
)

// TestReemitFrom: commands go out again only from a copy that does not know
// they went out (loaded from history), and only when a message that a
// batch of the run consumed is back; a client's batch (no inbox sequence
// recorded) also when any message is back or the batch is young.
func TestReemitFrom(t *testing.T) {
	young := history.Batch{evAt(1, t0.Add(-time.Second), history.TypeTimerFired, nil)}
	old := history.Batch{evAt(1, t0.Add(-time.Hour), history.TypeTimerFired, nil)}
	msg := func(seq uint64, redelivered bool) *item { return &item{seq: seq, redelivered: redelivered} }
	loaded := func(inboxSeq, consumed uint64, last history.Batch) *entry {
		return &entry{head: &store.Head{InboxSeq: inboxSeq}, unsure: true, consumed: consumed, last: last}
	}
	sure := &entry{head: &store.Head{InboxSeq: 10}, consumed: 10, last: young}
	cases := []struct {
		name     string
		e        *entry
		items    []*item
		wantFrom uint64
		want     bool
	}{
		{"a copy this worker emitted", sure, []*item{msg(5, true)}, 0, false},
		{"client's batch, young", loaded(0, 0, young), []*item{msg(11, false)}, 0, true},
		{"client's batch, old, a message back", loaded(0, 0, old), []*item{msg(11, true)}, 0, true},
		{"client's batch, old, first delivery", loaded(0, 0, old), []*item{msg(11, false)}, 0, false},
		{"no batch", loaded(0, 0, nil), []*item{msg(11, false)}, 0, false},
		{"the last batch's message back", loaded(10, 10, old), []*item{msg(12, false), msg(10, true)}, 10, true},
		{"an earlier batch's message back", loaded(20, 20, young), []*item{msg(9, true), msg(7, true)}, 7, true},
		{"an earlier batch's message back after a client's batch", loaded(0, 20, old), []*item{msg(9, true)}, 9, true},
		{"a message no batch consumed back", loaded(10, 10, young), []*item{msg(11, true)}, 0, false},
		{"new messages only", loaded(10, 10, young), []*item{msg(11, false)}, 0, false},
	}
	for _, tc := range cases {
		from, ok := reemitFrom(tc.e, tc.items, t0)
		if from != tc.wantFrom || ok != tc.want {
			t.Errorf("%s: (%d, %v), want (%d, %v)", tc.name, from, ok, tc.wantFrom, tc.want)
		}
	}
}

// TestBatchesFrom: re-emission starts at the first batch whose task
// consumed the message that came back, or at least at the last batch.
func TestBatchesFrom(t *testing.T) {
	b := func(seq int64) history.Batch { return history.Batch{evAt(seq, t0, history.TypeTimerFired, nil)} }
	batches := []history.Batch{b(1), b(2), b(3), b(4)}
	seqs := []uint64{3, 0, 8, 12}
	cases := []struct {
		from uint64
		want []history.Batch
	}{
		{3, batches},
		{5, batches[2:]},
		{8, batches[2:]},
		{9, batches[3:]},
		{13, batches[3:]},
	}
	for _, tc := range cases {
		if got := batchesFrom(batches, seqs, tc.from); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("from %d: %d batches, want %d", tc.from, len(got), len(tc.want))
		}
	}
	if got := batchesFrom(nil, nil, 1); got != nil {
		t.Errorf("no batches: %v", got)
	}
}

// activityAndTimer schedules an activity and starts a timer, then waits for
// both.
func activityAndTimer(ctx *executor.Ctx, _ json.RawMessage) (json.RawMessage, error) {
	a := ctx.ScheduleActivity("Ship", nil, history.ActivityOptions{StartToClose: history.Duration(time.Minute)})
	tm := ctx.NewTimer(time.Minute, "wait")
	if _, err := a.Get(ctx.Coroutine()); err != nil {
		return nil, err
	}
	if _, err := tm.Get(ctx.Coroutine()); err != nil {
		return nil, err
	}
	return nil, nil
}

// TestStillOpen: an old batch re-emitted does not dispatch an activity or
// start a timer that has closed since.
func TestStillOpen(t *testing.T) {
	now := time.Now()
	in, _, b := firstTask(t, activityAndTimer, now)
	types := func(b history.Batch) []history.EventType {
		var out []history.EventType
		for _, ev := range b {
			out = append(out, ev.Type)
		}
		return out
	}
	if got, want := types(stillOpen(b, in)), types(b); !reflect.DeepEqual(got, want) {
		t.Fatalf("with both open: %v, want %v", got, want)
	}
	var actID int64
	for _, ev := range b {
		if a, ok := ev.Attributes.(*history.ActivityScheduled); ok {
			actID = a.ID
		}
	}
	done := &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{ID: actID, Attempt: 1}}
	if _, err := in.Execute(now, []*history.Event{done}); err != nil {
		t.Fatal(err)
	}
	if got, want := types(stillOpen(b, in)), []history.EventType{history.TypeTimerStarted}; !reflect.DeepEqual(got, want) {
		t.Fatalf("with the activity closed: %v, want %v", got, want)
	}
}
