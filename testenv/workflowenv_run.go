package testenv

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
)

// run is one run of a workflow in the env, with the batches it committed.
type run struct {
	id, runID, typ, queue string
	fn                    executor.WorkflowFunc
	inst                  *executor.Instance
	batches               []history.Batch
	inbox                 []*history.Event
	needTask              bool

	parent   *run  // the run that started this one as a child
	childID  int64 // its id in the parent's history
	children map[int64]*run
	// callbacks are the callback waits still open, by id.
	callbacks map[int64]*history.CallbackStarted
	closed    *history.Event
	next      *run // the run this one continued as
	fatal     error
}

// startRun starts a run with its start batch, as a client or the engine
// (children, continue-as-new) would write it; its first task runs on the
// next drive.
func (e *WorkflowEnv) startRun(start *history.WorkflowStarted, carried []*history.SignalReceived) (*run, error) {
	fn := e.workflows[start.WorkflowType]
	if fn == nil {
		return nil, fmt.Errorf("testenv: workflow type %q is not registered", start.WorkflowType)
	}
	batch := history.Batch{{Seq: 1, Time: e.now, Type: history.TypeWorkflowStarted, Attributes: start}}
	for i, s := range carried {
		batch = append(batch, &history.Event{Seq: int64(i + 2), Time: e.now, Type: history.TypeSignalReceived, Attributes: s})
	}
	inst := executor.New(fn, executor.Options{Logger: e.cfg.logger})
	if err := inst.Replay([]history.Batch{batch}); err != nil {
		inst.Close()
		return nil, fmt.Errorf("testenv: start workflow %q: %w", start.WorkflowID, err)
	}
	r := &run{id: start.WorkflowID, runID: start.Run, typ: start.WorkflowType, queue: start.TaskQueue, fn: fn, inst: inst,
		batches: []history.Batch{batch}, needTask: true, children: map[int64]*run{}, callbacks: map[int64]*history.CallbackStarted{}}
	e.runs = append(e.runs, r)
	if d := start.ExecutionTimeout.D(); d > 0 {
		e.timeline.add(e.now.Add(d), r, "workflow-timeout", func() {
			e.deliver(r, &history.Event{Type: history.TypeWorkflowTimedOut, Attributes: &history.WorkflowTimedOut{Timeout: start.ExecutionTimeout}})
		})
	}
	return r, nil
}

// seed derives a run's random seed from its identity, as the engine does
// for runs it starts itself.
func seed(id, run string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id + "/" + run))
	return h.Sum64()
}

// deliver queues an inbound event for r's next task.
func (e *WorkflowEnv) deliver(r *run, ev *history.Event) {
	if r.closed != nil {
		return
	}
	r.inbox = append(r.inbox, ev)
}

// task runs one workflow task of r at the current virtual time and acts on
// the batch it commits, as the orchestrator would.
func (e *WorkflowEnv) task(r *run) {
	in := r.inbox
	r.inbox, r.needTask = nil, false
	b, err := r.inst.Execute(e.now, in)
	if err != nil {
		r.fatal = fmt.Errorf("testenv: workflow %q run %s at %s: %w", r.id, r.runID, e.now.Format(time.RFC3339Nano), err)
		e.err = r.fatal
		return
	}
	if len(b) > 0 {
		r.batches = append(r.batches, b)
		e.react(r, b)
	}
	if r.inst.AwaitingCommit() && r.closed == nil {
		r.needTask = true
	}
}

// react turns the events of a committed batch into what the engine would
// do next: schedule activity attempts, arm timers, start children, close.
func (e *WorkflowEnv) react(r *run, b history.Batch) {
	for _, ev := range b {
		switch a := ev.Attributes.(type) {
		case *history.ActivityScheduled:
			id := a.ID
			e.timeline.add(ev.Time, r, activityKey(id), func() { e.runActivity(r, id, 1) })
			if d := a.Options.ScheduleToClose.D(); d > 0 {
				e.timeline.add(ev.Time.Add(d), r, deadlineKey(id), func() {
					e.deliver(r, &history.Event{Type: history.TypeActivityFailed, Attributes: &history.ActivityFailed{ID: id,
						Failure: &history.Failure{Type: history.FailureTimeout, Message: "activity schedule-to-close timeout",
							NonRetryable: true, Details: json.RawMessage(`{"kind":"schedule-to-close"}`)}}})
				})
			}
		case *history.ActivityRetrying:
			id, attempt := a.ID, a.Attempt+1
			e.timeline.add(a.NextAttemptAt, r, activityKey(id), func() { e.runActivity(r, id, attempt) })
		case *history.ActivityCompleted:
			e.activityClosed(r, a.ID)
		case *history.ActivityFailed:
			e.activityClosed(r, a.ID)
		case *history.ActivityCancelRequested:
			e.activityClosed(r, a.ID)
		case *history.TimerStarted:
			id := a.ID
			e.timeline.add(a.FireAt, r, timerKey(id), func() {
				e.deliver(r, &history.Event{Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: id}})
			})
		case *history.TimerFired:
			e.timeline.remove(r, timerKey(a.ID))
		case *history.TimerCanceled:
			e.timeline.remove(r, timerKey(a.ID))
		case *history.ChildWorkflowScheduled:
			e.startChild(r, a)
		case *history.ChildCancelRequested:
			if ch := r.children[a.ID]; ch != nil {
				e.deliver(ch.current(), &history.Event{Type: history.TypeWorkflowCancelRequested,
					Attributes: &history.WorkflowCancelRequested{Reason: "canceled by parent workflow " + r.id}})
			}
		case *history.CallbackStarted:
			r.callbacks[a.ID] = a
		case *history.CallbackCompleted:
			delete(r.callbacks, a.ID)
		case *history.CallbackFailed:
			delete(r.callbacks, a.ID)
		case *history.CallbackTimedOut:
			delete(r.callbacks, a.ID)
		}
		if ev.IsClose() {
			e.runClosed(r, ev)
		}
	}
}

func (e *WorkflowEnv) activityClosed(r *run, id int64) {
	e.timeline.remove(r, activityKey(id))
	e.timeline.remove(r, deadlineKey(id))
}

func activityKey(id int64) string { return "activity/" + strconv.FormatInt(id, 10) }
func deadlineKey(id int64) string { return "deadline/" + strconv.FormatInt(id, 10) }
func timerKey(id int64) string    { return "timer/" + strconv.FormatInt(id, 10) }

// current follows continue-as-new to the latest run of r's chain.
func (r *run) current() *run {
	for r.next != nil {
		r = r.next
	}
	return r
}

// current is the latest run of the workflow under test (nil before it
// started).
func (e *WorkflowEnv) current() *run {
	if e.root == nil {
		return nil
	}
	return e.root.current()
}

func (r *run) openCallbacks() []*history.CallbackStarted {
	ids := make([]int64, 0, len(r.callbacks))
	for id := range r.callbacks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*history.CallbackStarted, len(ids))
	for i, id := range ids {
		out[i] = r.callbacks[id]
	}
	return out
}

// runClosed does what the engine does when a run closes: continue as new,
// apply the parent-close policy to open children, report to the parent.
func (e *WorkflowEnv) runClosed(r *run, ev *history.Event) {
	r.closed = ev
	r.inbox, r.needTask = nil, false
	e.timeline.removeRun(r)
	if a, ok := ev.Attributes.(*history.WorkflowContinuedAsNew); ok {
		started := r.inst.Started()
		next, err := e.startRun(&history.WorkflowStarted{WorkflowType: r.typ, WorkflowID: r.id, Run: a.NextRun, TaskQueue: r.queue,
			Input: a.Input, RandomSeed: seed(r.id, a.NextRun), Parent: started.Parent}, a.Events)
		if err != nil {
			e.err = err
			return
		}
		next.parent, next.childID = r.parent, r.childID
		r.next = next
	}
	for _, ch := range r.inst.OpenChildren() {
		child := r.children[ch.ID]
		if child == nil {
			continue
		}
		child = child.current()
		switch ch.ParentClosePolicy {
		case history.ParentCloseAbandon:
		case history.ParentCloseCancel:
			e.deliver(child, &history.Event{Type: history.TypeWorkflowCancelRequested,
				Attributes: &history.WorkflowCancelRequested{Reason: "parent closed"}})
		default:
			e.terminate(child, "parent closed")
		}
	}
	if r.parent != nil && r.next == nil {
		e.deliver(r.parent, childClosed(r, ev))
	}
}

// childClosed is the notice a parent records when its child closes.
func childClosed(r *run, ev *history.Event) *history.Event {
	if a, ok := ev.Attributes.(*history.WorkflowCompleted); ok {
		return &history.Event{Type: history.TypeChildWorkflowCompleted, Attributes: &history.ChildWorkflowCompleted{
			ID: r.childID, Run: r.runID, Result: a.Result}}
	}
	f := history.CloseFailure(ev)
	return &history.Event{Type: history.TypeChildWorkflowFailed, Attributes: &history.ChildWorkflowFailed{
		ID: r.childID, Run: r.runID, Failure: f}}
}

// startChild runs a child workflow in the env when its type is
// registered; otherwise the parent learns that it could not start.
func (e *WorkflowEnv) startChild(parent *run, a *history.ChildWorkflowScheduled) {
	fail := func(typ, msg string) {
		e.deliver(parent, &history.Event{Type: history.TypeChildWorkflowFailed, Attributes: &history.ChildWorkflowFailed{
			ID: a.ID, Run: a.Run, Failure: &history.Failure{Type: typ, NonRetryable: true, Message: msg}}})
	}
	if e.workflows[a.WorkflowType] == nil {
		fail(history.FailureUnknownType, fmt.Sprintf("workflow type %q is not registered in the test env (RegisterWorkflow)", a.WorkflowType))
		return
	}
	for _, other := range e.runs {
		if other.id == a.WorkflowID && other.closed == nil {
			fail(history.FailureChildStart, "workflow id "+strconv.Quote(a.WorkflowID)+" is already running as run "+other.runID)
			return
		}
	}
	ps := parent.inst.Started()
	child, err := e.startRun(&history.WorkflowStarted{WorkflowType: a.WorkflowType, WorkflowID: a.WorkflowID, Run: a.Run,
		TaskQueue: a.TaskQueue, Input: a.Input, RandomSeed: seed(a.WorkflowID, a.Run),
		Parent: &history.ParentInfo{WorkflowID: ps.WorkflowID, Run: ps.Run, TaskQueue: ps.TaskQueue, ChildID: a.ID}}, nil)
	if err != nil {
		fail(history.FailureChildStart, err.Error())
		return
	}
	child.parent, child.childID = parent, a.ID
	parent.children[a.ID] = child
}

// terminate closes r without running its code.
func (e *WorkflowEnv) terminate(r *run, reason string) {
	if r.closed != nil || r.fatal != nil {
		return
	}
	b := r.inst.Terminate(e.now, reason)
	if len(b) > 0 {
		r.batches = append(r.batches, b)
		e.react(r, b)
	}
}
