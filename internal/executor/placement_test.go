package executor

import (
	"testing"

	"github.com/cairnhq/cairn/history"
)

// scheduledIDs returns the ids of the activities scheduled in b.
func scheduledIDs(b history.Batch) []int64 {
	var ids []int64
	for _, ev := range b {
		if a, ok := ev.Attributes.(*history.ActivityScheduled); ok {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// replayed returns an instance replayed from batches.
func replayed(t *testing.T, fn WorkflowFunc, batches []history.Batch) *Instance {
	t.Helper()
	in := New(fn, Options{})
	t.Cleanup(in.Close)
	if err := in.Replay(batches); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestPlaceTellsAStaleCopyFromADuplicate is the two-worker story: one
// worker's copy stops after the first activity was scheduled, the other
// worker commits its result and schedules the second. The second
// activity's result is unplaced for the stale copy (it must reload, not
// drop it), while the first one's repeated result is a duplicate for the
// current copy.
func TestPlaceTellsAStaleCopyFromADuplicate(t *testing.T) {
	fn := twoActivities("A", "B")
	batches := live(t, fn)
	first, second := scheduledIDs(batches[1]), scheduledIDs(batches[2])
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("want one activity per batch, got %v and %v", first, second)
	}
	stale := replayed(t, fn, batches[:2])
	current := replayed(t, fn, batches[:3])

	secondDone := completed(second[0], `"B-done"`)
	if got := stale.Place(secondDone); got != Unplaced {
		t.Errorf("stale copy places the result of an activity it never scheduled as %v, want unplaced", got)
	}
	if got := current.Place(secondDone); got != Applies {
		t.Errorf("current copy places the open activity's result as %v, want applies", got)
	}
	if got := current.Place(completed(first[0], `"A-done"`)); got != Duplicate {
		t.Errorf("current copy places a closed activity's result as %v, want duplicate", got)
	}
	later := &history.Event{Type: history.TypeActivityCompleted, Attributes: &history.ActivityCompleted{ID: second[0], Attempt: 2}}
	if got := current.Place(later); got != Unplaced {
		t.Errorf("a later attempt than the copy knows is %v, want unplaced", got)
	}
	timer := &history.Event{Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: 99}}
	if got := current.Place(timer); got != Unplaced {
		t.Errorf("an unknown timer's fire is %v, want unplaced", got)
	}
	resume := &history.Event{Type: history.TypeWorkflowResumed, Attributes: &history.WorkflowResumed{}}
	if got := current.Place(resume); got != Unplaced {
		t.Errorf("a resume of a run the copy sees running is %v, want unplaced (history may hold a pause)", got)
	}
	closedRun := replayed(t, fn, batches)
	if got := closedRun.Place(secondDone); got != Duplicate {
		t.Errorf("a closed run places an event as %v, want duplicate", got)
	}
}

// TestPlaceLeavesTheEventAlone: placing an engine timeout (attempt 0) must
// not bind it to the copy's attempt, or a reloaded copy would misread it.
func TestPlaceLeavesTheEventAlone(t *testing.T) {
	fn := twoActivities("A", "B")
	batches := live(t, fn)
	id := scheduledIDs(batches[1])[0]
	in := replayed(t, fn, batches[:2])
	a := &history.ActivityFailed{ID: id, Failure: &history.Failure{Message: "timed out", NonRetryable: true}}
	ev := &history.Event{Type: history.TypeActivityFailed, Attributes: a}
	if got := in.Place(ev); got != Applies {
		t.Fatalf("placement %v, want applies", got)
	}
	if a.Attempt != 0 {
		t.Fatalf("Place set the event's attempt to %d", a.Attempt)
	}
}
