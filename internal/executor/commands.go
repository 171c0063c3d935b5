package executor

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/coro"
)

// DefaultVersion is what GetVersion returns for runs that started before the
// change it guards was made.
const DefaultVersion = -1

func failedFuture(f *history.Failure) *coro.Future {
	fut := coro.NewFuture()
	fut.Set(nil, f)
	return fut
}

// ScheduleActivity issues the command to run an activity; the future
// resolves with its result payload or an *ActivityFailure.
func (c *Ctx) ScheduleActivity(activityType string, input json.RawMessage, opts history.ActivityOptions) *coro.Future {
	in := c.inst
	if err := c.Err(); err != nil {
		return failedFuture(err)
	}
	id := int64(in.nextCmd + 1)
	ev := in.command(&history.Event{Type: history.TypeActivityScheduled, Attributes: &history.ActivityScheduled{
		ID: id, ActivityType: activityType, Input: input, Options: opts}})
	a := ev.Attributes.(*history.ActivityScheduled)
	act := &activity{id: id, attrs: a, typ: a.ActivityType, attempt: 1, opts: a.Options, sched: ev.Time, future: coro.NewFuture()}
	in.activities[id] = act
	c.onCancel(func() {
		if act.closed {
			return
		}
		act.closed, act.canceled = true, true
		in.command(&history.Event{Type: history.TypeActivityCancelRequested, Attributes: &history.ActivityCancelRequested{ID: id}})
		act.future.Set(nil, &ActivityFailure{ActivityType: act.typ, ID: id, Attempt: act.attempt, Failure: c.Err()})
	})
	return act.future
}

// NewTimer issues the command to start a durable timer that fires after d.
func (c *Ctx) NewTimer(d time.Duration, name string) *coro.Future {
	in := c.inst
	if err := c.Err(); err != nil {
		return failedFuture(err)
	}
	if d <= 0 {
		fut := coro.NewFuture()
		fut.Set(nil, nil)
		return fut
	}
	id := int64(in.nextCmd + 1)
	ev := in.command(&history.Event{Type: history.TypeTimerStarted, Attributes: &history.TimerStarted{
		ID: id, Name: name, FireAt: in.now.Add(d)}})
	a := ev.Attributes.(*history.TimerStarted)
	t := &timer{id: id, fireAt: a.FireAt, future: coro.NewFuture()}
	in.timers[id] = t
	c.onCancel(func() {
		if t.done {
			return
		}
		t.done = true
		in.command(&history.Event{Type: history.TypeTimerCanceled, Attributes: &history.TimerCanceled{ID: id}})
		t.future.Set(nil, c.Err())
	})
	return t.future
}

// AwaitCommitted blocks until everything the run recorded so far is
// committed to history, so that what follows (a Step handing out a callback
// token, say) never acts on a decision a crash could still undo. It costs
// one extra commit when something is uncommitted, nothing otherwise, and
// records no event of its own: replay blocks at the same place because it
// sees the same batch boundary.
func (c *Ctx) AwaitCommitted() {
	in := c.inst
	if in.uncommitted() == 0 {
		return
	}
	gen := in.commitGen
	in.awaitingCommit = true
	c.Coroutine().Block(func() bool { return in.commitGen != gen })
}

// Step runs fn once and records its outcome; replay returns the recorded
// outcome without running fn. A panic in fn is a bug in the workflow and
// parks the instance like any other workflow panic.
func (c *Ctx) Step(name string, fn func() (json.RawMessage, error)) (json.RawMessage, *history.Failure) {
	in := c.inst
	id := int64(in.nextCmd + 1)
	if in.replaying {
		ev := in.command(&history.Event{Type: history.TypeStepCompleted, Attributes: &history.StepCompleted{ID: id, Name: name}})
		a := ev.Attributes.(*history.StepCompleted)
		return a.Result, a.Failure
	}
	result, err := fn()
	a := &history.StepCompleted{ID: id, Name: name, Result: result, Failure: history.FailureOf(err)}
	in.command(&history.Event{Type: history.TypeStepCompleted, Attributes: a})
	return a.Result, a.Failure
}

// GetVersion returns the version of changeID this run follows: the one
// recorded when the run first met the change, DefaultVersion for runs that
// met it before the change existed, and maxSupported for new runs.
func (c *Ctx) GetVersion(changeID string, minSupported, maxSupported int) int {
	in := c.inst
	if in.versionSeen == nil {
		in.versionSeen = map[string]int{}
	}
	if v, ok := in.versionSeen[changeID]; ok {
		return v
	}
	var v int
	if rv, ok := in.versions[changeID]; ok && in.replaying {
		id := int64(in.nextCmd + 1)
		ev := in.command(&history.Event{Type: history.TypeVersionMarker, Attributes: &history.VersionMarker{ID: id, ChangeID: changeID, Version: rv}})
		v = ev.Attributes.(*history.VersionMarker).Version
	} else if in.replaying {
		v = DefaultVersion
	} else {
		id := int64(in.nextCmd + 1)
		in.command(&history.Event{Type: history.TypeVersionMarker, Attributes: &history.VersionMarker{ID: id, ChangeID: changeID, Version: maxSupported}})
		v = maxSupported
		in.versions[changeID] = v
	}
	if v < minSupported || v > maxSupported {
		panic(fmt.Sprintf("workflow %q: version %d of change %q is outside the supported range [%d, %d]",
			in.workflowID(), v, changeID, minSupported, maxSupported))
	}
	in.versionSeen[changeID] = v
	return v
}

// SetStatus records a custom status (an encoded payload) in history.
func (c *Ctx) SetStatus(status json.RawMessage) {
	c.inst.command(&history.Event{Type: history.TypeStatusSet, Attributes: &history.StatusSet{Status: status}})
}

// Go starts a workflow coroutine.
func (c *Ctx) Go(name string, fn func(ctx *Ctx)) {
	c.inst.sched.Go(name, func(*coro.Coroutine) { fn(c) })
}

// Coroutine returns the coroutine currently running workflow code; blocking
// primitives need it.
func (c *Ctx) Coroutine() *coro.Coroutine { return c.inst.sched.Current() }

// Now is the deterministic workflow clock.
func (c *Ctx) Now() time.Time { return c.inst.now }

// Random returns a deterministic 64-bit random number.
func (c *Ctx) Random() uint64 { return c.inst.rnd.Uint64() }

// Info returns the start attributes of the run.
func (c *Ctx) Info() *history.WorkflowStarted { return c.inst.started }

// IsReplaying reports whether the code is re-running recorded history.
func (c *Ctx) IsReplaying() bool { return c.inst.replaying }
