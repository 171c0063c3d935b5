package testenv

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// timeline holds what is due at a virtual time: timer fires, activity
// attempts, timeouts, delayed callbacks. Items due at the same time fire
// in the order they were added, so a test run is reproducible.
type timeline struct {
	items []*item
	seq   int64
}

type item struct {
	at  time.Time
	seq int64
	// key identifies the item for removal ("" for items never removed
	// one by one); owner is the run it belongs to (nil for the env's own).
	key   string
	owner *run
	fire  func()
}

func (tl *timeline) add(at time.Time, owner *run, key string, fire func()) {
	tl.seq++
	it := &item{at: at, seq: tl.seq, key: key, owner: owner, fire: fire}
	i, _ := slices.BinarySearchFunc(tl.items, it, func(a, b *item) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return int(a.seq - b.seq)
	})
	tl.items = slices.Insert(tl.items, i, it)
}

// remove drops the items of owner with key.
func (tl *timeline) remove(owner *run, key string) {
	tl.items = slices.DeleteFunc(tl.items, func(it *item) bool { return it.owner == owner && it.key == key })
}

// removeRun drops every item of a closed run.
func (tl *timeline) removeRun(owner *run) {
	tl.items = slices.DeleteFunc(tl.items, func(it *item) bool { return it.owner == owner })
}

// popDue removes and returns the items due at or before now, in order.
func (tl *timeline) popDue(now time.Time) []*item {
	n := 0
	for n < len(tl.items) && !tl.items[n].at.After(now) {
		n++
	}
	due := slices.Clone(tl.items[:n])
	tl.items = slices.Delete(tl.items, 0, n)
	return due
}

func (tl *timeline) next() (time.Time, bool) {
	if len(tl.items) == 0 {
		return time.Time{}, false
	}
	return tl.items[0].at, true
}

// drive runs the workflow tasks and due items until nothing is left to do
// at the current virtual time, then moves the clock: with auto set, to the
// next due item, for as long as the workflow under test is open; without
// it, to the next due item up to until, and finally to until itself.
// Called from inside an activity or a delayed callback it does nothing:
// the outer drive picks up what they queued.
func (e *WorkflowEnv) drive(until time.Time, auto bool) {
	if e.driving {
		return
	}
	e.driving = true
	defer func() { e.driving = false }()
	for e.err == nil {
		if e.runTasks() {
			continue
		}
		if due := e.timeline.popDue(e.now); len(due) > 0 {
			for _, it := range due {
				it.fire()
			}
			continue
		}
		if auto && e.current() != nil && e.current().closed != nil {
			break
		}
		at, ok := e.timeline.next()
		if !ok || (!auto && at.After(until)) {
			break
		}
		if at.After(e.now) {
			e.now = at
		}
	}
	if !auto && until.After(e.now) && e.err == nil {
		e.now = until
	}
}

// runTasks executes one workflow task for every run that has something to
// take (new events, its first task, a commit it waits for), in start
// order, and reports whether any ran.
func (e *WorkflowEnv) runTasks() bool {
	ran := false
	for i := 0; i < len(e.runs) && e.err == nil; i++ { // runs may start meanwhile
		r := e.runs[i]
		if r.closed != nil || r.fatal != nil || (!r.needTask && len(r.inbox) == 0) {
			continue
		}
		e.tasks++
		if e.tasks > e.cfg.maxTasks {
			e.err = fmt.Errorf("%w: %d tasks executed, the last one of workflow %q at %s; is an activity failing for ever under a retry policy without MaximumAttempts?",
				ErrTooManyTasks, e.cfg.maxTasks, r.id, e.now.Format(time.RFC3339))
			return false
		}
		e.task(r)
		ran = true
	}
	return ran
}

// describeOpen says what an open run waits for, for ErrStillRunning.
func describeOpen(r *run) string {
	var parts []string
	for _, cb := range r.openCallbacks() {
		parts = append(parts, fmt.Sprintf("callback %q", cb.Name))
	}
	for _, ch := range r.inst.OpenChildren() {
		parts = append(parts, fmt.Sprintf("child %s %q", ch.WorkflowType, ch.WorkflowID))
	}
	if len(parts) == 0 {
		parts = append(parts, "an event (Signal), a cancel, or a condition nothing will change")
	}
	return strings.Join(parts, ", ")
}
