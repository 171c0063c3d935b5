package orchestrator

import (
	"reflect"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

func itemFor(kind, run string) *item { return &item{kind: kind, run: run} }

func TestEarlyResetFate(t *testing.T) {
	now := t0
	head := &entry{head: &store.Head{Run: "r2"}}
	cases := []struct {
		name string
		it   *item
		e    *entry
		want itemFate
	}{
		{"a reset wake of the head's run is taken", &item{kind: kindReset, run: "r2", published: now}, head, keepItem},
		{"a reset wake ahead of history is held", &item{kind: kindReset, run: "r3", published: now.Add(-59 * time.Second)}, head, holdItem},
		{"a reset wake of an instance without history is held", &item{kind: kindReset, run: "r3", published: now}, nil, holdItem},
		{"a reset wake whose run never came is dropped", &item{kind: kindReset, run: "r3", published: now.Add(-time.Minute)}, head, dropItem},
		{"a reset wake of unknown age is dropped", &item{kind: kindReset, run: "r3"}, head, dropItem},
		{"other items are taken", &item{kind: kindTimerFired, run: "r3"}, nil, keepItem},
		{"a terminated wake is taken", &item{kind: kindTerminated, run: "r1"}, head, keepItem},
	}
	for _, tc := range cases {
		if got := earlyResetFate(tc.it, tc.e, now); got != tc.want {
			t.Errorf("%s: fate %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRecent(t *testing.T) {
	cases := []struct {
		name string
		b    history.Batch
		want bool
	}{
		{"empty batch", nil, false},
		{"within the duplicate window", history.Batch{evAt(1, t0.Add(-119*time.Second), history.TypeTimerFired, nil)}, true},
		{"at the window's end", history.Batch{evAt(1, t0.Add(-2*time.Minute), history.TypeTimerFired, nil)}, false},
		{"older", history.Batch{evAt(1, t0.Add(-time.Hour), history.TypeTimerFired, nil)}, false},
		{"first event decides", history.Batch{evAt(1, t0.Add(-time.Hour), history.TypeTimerFired, nil),
			evAt(2, t0, history.TypeTimerFired, nil)}, false},
	}
	for _, tc := range cases {
		if got := recent(tc.b, t0); got != tc.want {
			t.Errorf("%s: recent %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTerminatesRun(t *testing.T) {
	items := []*item{itemFor(kindTimerFired, "r1"), itemFor(kindTerminated, "r0")}
	if terminatesRun(items, "r1") {
		t.Error("another run's terminated wake terminates the current run")
	}
	if !terminatesRun(append(items, itemFor(kindTerminated, "r1")), "r1") {
		t.Error("the run's terminated wake does not terminate it")
	}
}

func TestWakeOf(t *testing.T) {
	cases := []struct {
		it   *item
		want wake
	}{
		{itemFor(kindReset, "r2"), wakeDispatchOpen},
		{itemFor(kindReset, "r1"), noWake},
		{itemFor(kindTerminated, "r1"), wakeCloseSuperseded},
		{itemFor(kindTerminated, "r2"), noWake},
		{itemFor(kindTimerFired, "r1"), noWake},
		{itemFor(kindStart, "r2"), noWake},
	}
	for _, tc := range cases {
		if got := wakeOf(tc.it, "r2"); got != tc.want {
			t.Errorf("%s of %s: wake %d, want %d", tc.it.kind, tc.it.run, got, tc.want)
		}
	}
}

// TestInboundOf: only the current run's events reach the code; control
// items carry none, and messages for another run are stale.
func TestInboundOf(t *testing.T) {
	fired := ev(0, history.TypeTimerFired, &history.TimerFired{ID: 1})
	paused := ev(0, history.TypeWorkflowPaused, &history.WorkflowPaused{})
	stale := ev(0, history.TypeTimerFired, &history.TimerFired{ID: 2})
	items := []*item{
		{kind: kindTimerFired, run: "r2", ev: fired},
		{kind: kindTerminated, run: "r2"},
		{kind: kindTimerFired, run: "r1", ev: stale},
		{kind: store.KindPause, run: "r2", ev: paused},
		{kind: kindStart, run: "r2"},
	}
	if got := inboundOf(items, "r2"); !reflect.DeepEqual(got, []*history.Event{fired, paused}) {
		t.Errorf("inbound %v", got)
	}
	if got := inboundOf(items[1:2], "r2"); got != nil {
		t.Errorf("inbound of control items %v", got)
	}
}

func TestEvictsCopyAndFirstStart(t *testing.T) {
	for kind, want := range map[string]bool{kindTerminated: true, kindReset: true, kindStart: false, kindTimerFired: false,
		store.KindCancel: false} {
		if got := evictsCopy(itemFor(kind, "r1")); got != want {
			t.Errorf("%s evicts the cached copy: %v, want %v", kind, got, want)
		}
	}
	a, b := itemFor(kindStart, "r1"), itemFor(kindStart, "r2")
	if got := firstStart([]*item{itemFor(kindTimerFired, "r0"), a, b}); got != a {
		t.Errorf("first start %+v", got)
	}
	if got := firstStart([]*item{itemFor(kindTimerFired, "r0")}); got != nil {
		t.Errorf("first start of no start %+v", got)
	}
}
