package history

import (
	"slices"
	"time"
)

// Open is what a run's history leaves open: the activities, timers, child
// workflows and callback waits that have not closed, each in the order it
// was started.
type Open struct {
	Activities []*OpenActivity
	Timers     []*TimerStarted
	Children   []*ChildWorkflowScheduled
	Callbacks  []*OpenCallback
}

// OpenActivity is an activity that has not closed.
type OpenActivity struct {
	Scheduled   *ActivityScheduled
	ScheduledAt time.Time
	// Attempt is the attempt running or due next.
	Attempt       int
	LastFailure   *Failure
	NextAttemptAt time.Time
}

// OpenCallback is a callback wait not completed, failed or timed out.
type OpenCallback struct {
	Started   *CallbackStarted
	StartedAt time.Time
}

// OpenItems scans a run's batches for what they leave open.
func OpenItems(batches []Batch) *Open {
	acts := map[int64]*OpenActivity{}
	timers := map[int64]*TimerStarted{}
	children := map[int64]*ChildWorkflowScheduled{}
	callbacks := map[int64]*OpenCallback{}
	for _, b := range batches {
		for _, ev := range b {
			switch a := ev.Attributes.(type) {
			case *ActivityScheduled:
				acts[a.ID] = &OpenActivity{Scheduled: a, ScheduledAt: ev.Time, Attempt: 1}
			case *ActivityRetrying:
				if p := acts[a.ID]; p != nil {
					p.Attempt, p.LastFailure, p.NextAttemptAt = a.Attempt+1, a.Failure, a.NextAttemptAt
				}
			case *ActivityCompleted:
				delete(acts, a.ID)
			case *ActivityFailed:
				delete(acts, a.ID)
			case *ActivityCancelRequested:
				delete(acts, a.ID)
			case *TimerStarted:
				timers[a.ID] = a
			case *TimerFired:
				delete(timers, a.ID)
			case *TimerCanceled:
				delete(timers, a.ID)
			case *ChildWorkflowScheduled:
				children[a.ID] = a
			case *ChildWorkflowCompleted:
				delete(children, a.ID)
			case *ChildWorkflowFailed:
				delete(children, a.ID)
			case *CallbackStarted:
				callbacks[a.ID] = &OpenCallback{Started: a, StartedAt: ev.Time}
			case *CallbackCompleted:
				delete(callbacks, a.ID)
			case *CallbackFailed:
				delete(callbacks, a.ID)
			case *CallbackTimedOut:
				delete(callbacks, a.ID)
			}
		}
	}
	o := &Open{}
	for _, id := range sortedKeys(acts) {
		o.Activities = append(o.Activities, acts[id])
	}
	for _, id := range sortedKeys(timers) {
		o.Timers = append(o.Timers, timers[id])
	}
	for _, id := range sortedKeys(children) {
		o.Children = append(o.Children, children[id])
	}
	for _, id := range sortedKeys(callbacks) {
		o.Callbacks = append(o.Callbacks, callbacks[id])
	}
	return o
}

// sortedKeys orders by command id, which is the order things were started.
func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
