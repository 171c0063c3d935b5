package executor

import "github.com/cairnhq/cairn/history"

// Placement is what a run's copy can tell of an inbound event before it is
// executed. A copy held in a worker's cache may be behind history: another
// worker may have committed since. Only a copy that is known to be current
// may drop an event it cannot place; dropping it from a stale copy would
// lose it for good, since nothing is appended and the conditional append
// never gets the chance to detect the stale copy.
type Placement int

const (
	// Applies: the run records the event (accept takes it). If the copy
	// is stale, the commit's conditional append finds out.
	Applies Placement = iota
	// Duplicate: the copy itself proves the event stale or repeated (an
	// activity already closed or an earlier attempt's result, a timer
	// already fired or canceled, a child already closed, a signal id
	// already seen, a closed run). History is append-only, so what the
	// copy has seen committed stays true.
	Duplicate
	// Unplaced: the copy knows nothing of what the event refers to (an
	// activity, timer, child or callback it never scheduled, a later
	// attempt), or drops it for a state that history may since have
	// changed (pause, resume, a held cancel). The event may be dropped only
	// once the copy is shown to be current.
	Unplaced
)

// String names the placement for logs.
func (p Placement) String() string {
	switch p {
	case Applies:
		return "applies"
	case Duplicate:
		return "duplicate"
	}
	return "unplaced"
}

// Place tells what the run, as this copy has it, can say of an inbound
// event. It changes nothing; events are placed one at a time against the
// state before any of them is applied.
func (in *Instance) Place(ev *history.Event) Placement {
	if in.closed != nil {
		return Duplicate
	}
	if in.accept(ev) != nil {
		return Applies
	}
	switch a := ev.Attributes.(type) {
	case *history.ActivityCompleted:
		return in.placeAttempt(a.ID, a.Attempt)
	case *history.ActivityFailed:
		return in.placeAttempt(a.ID, a.Attempt)
	case *history.TimerFired:
		return known(in.timers[a.ID] != nil)
	case *history.ChildWorkflowCompleted:
		return known(in.children[a.ID] != nil)
	case *history.ChildWorkflowFailed:
		return known(in.children[a.ID] != nil)
	case *history.CallbackCompleted:
		return known(in.callbacks[a.ID] != nil)
	case *history.CallbackFailed:
		return known(in.callbacks[a.ID] != nil)
	case *history.CallbackHeartbeat:
		return known(in.callbacks[a.ID] != nil)
	case *history.SignalReceived:
		return Duplicate // accept drops only an id already seen
	case *history.WorkflowCancelRequested:
		// A recorded request is history; one held through a pause is not
		// (yet).
		return known(in.cancelReq)
	}
	return Unplaced
}

// placeAttempt places an activity result: the copy proves it stale when
// the activity is closed or the attempt is earlier than the one it runs; a
// later attempt, or an activity it never scheduled, it cannot place.
func (in *Instance) placeAttempt(id int64, attempt int) Placement {
	act := in.activities[id]
	if act == nil || (!act.closed && attempt > act.attempt) {
		return Unplaced
	}
	return Duplicate
}

func known(ok bool) Placement {
	if ok {
		return Duplicate
	}
	return Unplaced
}
