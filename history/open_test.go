package history

import (
	"testing"
	"time"
)

func TestOpenItems(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(a any) *Event { return &Event{Time: t0, Attributes: a} }
	batches := []Batch{
		{ev(&ActivityScheduled{ID: 2, ActivityType: "B"}), ev(&ActivityScheduled{ID: 1, ActivityType: "A"}),
			ev(&TimerStarted{ID: 3}), ev(&TimerStarted{ID: 4}), ev(&ChildWorkflowScheduled{ID: 5}), ev(&ChildWorkflowScheduled{ID: 6}),
			ev(&CallbackStarted{ID: 7, Name: "c"}), ev(&CallbackStarted{ID: 8})},
		{ev(&ActivityRetrying{ID: 2, Attempt: 1, Failure: &Failure{Type: "E"}, NextAttemptAt: t0.Add(time.Second)}),
			ev(&ActivityCompleted{ID: 1}), ev(&TimerFired{ID: 3}), ev(&ChildWorkflowFailed{ID: 6}), ev(&CallbackTimedOut{ID: 8})},
	}
	o := OpenItems(batches)
	if len(o.Activities) != 1 || o.Activities[0].Scheduled.ID != 2 || o.Activities[0].Attempt != 2 || o.Activities[0].LastFailure.Type != "E" {
		t.Fatalf("activities %+v", o.Activities)
	}
	if len(o.Timers) != 1 || o.Timers[0].ID != 4 {
		t.Fatalf("timers %+v", o.Timers)
	}
	if len(o.Children) != 1 || o.Children[0].ID != 5 {
		t.Fatalf("children %+v", o.Children)
	}
	if len(o.Callbacks) != 1 || o.Callbacks[0].Started.Name != "c" {
		t.Fatalf("callbacks %+v", o.Callbacks)
	}
}

func TestDecodeBatchesReadsBothForms(t *testing.T) {
	one := Batch{{Seq: 1, Type: TypeTimerFired, Attributes: &TimerFired{ID: 2}}}
	two := Batches{one, {{Seq: 2, Type: TypeTimerFired, Attributes: &TimerFired{ID: 3}}}}
	d1, _ := one.Encode()
	d2, _ := two.Encode()
	got1, err := DecodeBatches(d1)
	if err != nil || len(got1) != 1 || len(got1[0]) != 1 {
		t.Fatalf("single: %v %v", got1, err)
	}
	got2, err := DecodeBatches(d2)
	if err != nil || len(got2) != 2 || got2[1][0].Seq != 2 {
		t.Fatalf("several: %v %v", got2, err)
	}
	for _, bad := range []string{"", "[", "[ ", "[[", "{}", "[[1]]"} {
		if _, err := DecodeBatches([]byte(bad)); err == nil {
			t.Fatalf("%q decoded", bad)
		}
	}
}
