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

func TestOpenItemsNothingOpen(t *testing.T) {
	for name, batches := range map[string][]Batch{
		"no batches":    nil,
		"empty batches": {{}, {}},
		"all closed": {
			{{Attributes: &ActivityScheduled{ID: 1}}, {Attributes: &ActivityScheduled{ID: 2}}, {Attributes: &ActivityScheduled{ID: 3}},
				{Attributes: &TimerStarted{ID: 4}}, {Attributes: &TimerStarted{ID: 5}},
				{Attributes: &ChildWorkflowScheduled{ID: 6}}, {Attributes: &ChildWorkflowScheduled{ID: 7}},
				{Attributes: &CallbackStarted{ID: 8}}, {Attributes: &CallbackStarted{ID: 9}}, {Attributes: &CallbackStarted{ID: 10}}},
			{{Attributes: &ActivityCompleted{ID: 1}}, {Attributes: &ActivityFailed{ID: 2}}, {Attributes: &ActivityCancelRequested{ID: 3}},
				{Attributes: &TimerFired{ID: 4}}, {Attributes: &TimerCanceled{ID: 5}},
				{Attributes: &ChildWorkflowCompleted{ID: 6}}, {Attributes: &ChildWorkflowFailed{ID: 7}},
				{Attributes: &CallbackCompleted{ID: 8}}, {Attributes: &CallbackFailed{ID: 9}}, {Attributes: &CallbackTimedOut{ID: 10}}},
		},
		"closes of unknown ids": {
			{{Attributes: &ActivityCompleted{ID: 1}}, {Attributes: &ActivityRetrying{ID: 1, Attempt: 1}},
				{Attributes: &TimerFired{ID: 2}}, {Attributes: &ChildWorkflowFailed{ID: 3}}, {Attributes: &CallbackFailed{ID: 4}}},
		},
		"events without attributes": {{{Type: TypeActivityScheduled}, {Type: TypeTimerStarted}}},
		"other events": {{{Attributes: &WorkflowStarted{}}, {Attributes: &SignalReceived{}}, {Attributes: &CallbackHeartbeat{ID: 1}},
			{Attributes: &ChildCancelRequested{ID: 1}}, {Attributes: &StepCompleted{ID: 1}}}},
	} {
		t.Run(name, func(t *testing.T) {
			o := OpenItems(batches)
			if o == nil || o.Activities != nil || o.Timers != nil || o.Children != nil || o.Callbacks != nil {
				t.Fatalf("open: %+v", o)
			}
		})
	}
}

func TestOpenItemsActivityAttempts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f1, f2 := &Failure{Type: "E1"}, &Failure{Type: "E2"}
	sched := &ActivityScheduled{ID: 1, ActivityType: "A"}
	batches := []Batch{
		{{Time: t0, Attributes: sched}},
		{{Time: t0.Add(time.Second), Attributes: &ActivityRetrying{ID: 1, Attempt: 1, Failure: f1, NextAttemptAt: t0.Add(2 * time.Second)}}},
		{{Time: t0.Add(3 * time.Second), Attributes: &ActivityRetrying{ID: 1, Attempt: 2, Failure: f2, NextAttemptAt: t0.Add(5 * time.Second)}}},
		// An event of another kind with the same id leaves the activity open.
		{{Attributes: &ChildCancelRequested{ID: 1}}},
	}
	o := OpenItems(batches)
	if len(o.Activities) != 1 {
		t.Fatalf("activities %+v", o.Activities)
	}
	a := o.Activities[0]
	if a.Scheduled != sched || !a.ScheduledAt.Equal(t0) || a.Attempt != 3 || a.LastFailure != f2 || !a.NextAttemptAt.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("activity %+v", a)
	}
	// Before any retry: attempt 1, no failure, no next attempt time.
	o = OpenItems(batches[:1])
	if a := o.Activities[0]; a.Attempt != 1 || a.LastFailure != nil || !a.NextAttemptAt.IsZero() {
		t.Fatalf("fresh activity %+v", a)
	}
}

func TestOpenItemsOrderAndTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Ids arrive out of order across batches; the result is by id, the
	// order things were started in.
	batches := []Batch{
		{{Time: t0, Attributes: &CallbackStarted{ID: 30, Name: "c30"}}, {Time: t0, Attributes: &TimerStarted{ID: 20}}},
		{{Time: t0.Add(time.Minute), Attributes: &CallbackStarted{ID: 3, Name: "c3"}}, {Time: t0.Add(time.Minute), Attributes: &TimerStarted{ID: 2}},
			{Attributes: &ChildWorkflowScheduled{ID: 11}}, {Attributes: &ChildWorkflowScheduled{ID: 10}}},
	}
	o := OpenItems(batches)
	if len(o.Callbacks) != 2 || o.Callbacks[0].Started.Name != "c3" || !o.Callbacks[0].StartedAt.Equal(t0.Add(time.Minute)) ||
		o.Callbacks[1].Started.Name != "c30" || !o.Callbacks[1].StartedAt.Equal(t0) {
		t.Fatalf("callbacks %+v %+v", o.Callbacks[0], o.Callbacks[1])
	}
	if len(o.Timers) != 2 || o.Timers[0].ID != 2 || o.Timers[1].ID != 20 {
		t.Fatalf("timers %+v", o.Timers)
	}
	if len(o.Children) != 2 || o.Children[0].ID != 10 || o.Children[1].ID != 11 {
		t.Fatalf("children %+v", o.Children)
	}
}

// TestOpenItemsFromStoredForm runs OpenItems on decoded history, the way
// describe and the engine see it.
func TestOpenItemsFromStoredForm(t *testing.T) {
	data := []byte(`[[{"seq":1,"time":"2026-01-01T00:00:00Z","type":"ActivityScheduled","attributes":{"id":1,"activityType":"A","options":{}}},
		{"seq":2,"time":"2026-01-01T00:00:00Z","type":"TimerStarted","attributes":{"id":2,"fireAt":"2026-01-02T00:00:00Z"}}],
		[{"seq":3,"time":"2026-01-01T00:01:00Z","type":"TimerFired","attributes":{"id":2}}]]`)
	bs, err := DecodeBatches(data)
	if err != nil {
		t.Fatal(err)
	}
	o := OpenItems(bs)
	if len(o.Activities) != 1 || o.Activities[0].Scheduled.ActivityType != "A" || len(o.Timers) != 0 {
		t.Fatalf("open %+v", o)
	}
}
