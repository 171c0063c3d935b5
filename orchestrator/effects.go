package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/telemetry"
	"github.com/cairnhq/cairn/timers"
)

// Timer subjects: user timers and engine timeouts share the instance's
// timer subjects, told apart by a prefix.
const workflowTimerName = "w"

func userTimerName(id int64) string     { return "t" + strconv.FormatInt(id, 10) }
func activityTimerName(id int64) string { return "a" + strconv.FormatInt(id, 10) }

// emission collects the commands of one batch so they are published
// together and awaited once.
type emission struct {
	w       *Worker
	futures []jetstream.PubAckFuture
	purges  []purge
}

type purge struct {
	stream  jetstream.Stream
	subject string
}

func (em *emission) publish(m *nats.Msg) error {
	f, err := em.w.js.PublishMsgAsync(m)
	if err != nil {
		return err
	}
	em.futures = append(em.futures, f)
	return nil
}

func (em *emission) purge(s jetstream.Stream, subject string) {
	em.purges = append(em.purges, purge{s, subject})
}

// wait blocks until every publish is acknowledged; a failed publish is an
// error (the caller redelivers the task and the commands are re-emitted).
func (em *emission) wait(ctx context.Context) error {
	var errs []error
	for _, f := range em.futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, p := range em.purges {
		if err := p.stream.Purge(ctx, jetstream.WithPurgeSubject(p.subject)); err != nil {
			errs = append(errs, fmt.Errorf("purge %s: %w", p.subject, err))
		}
	}
	return errors.Join(errs...)
}

// emit publishes the commands of a committed batch. Every command is
// idempotent: tasks carry deterministic message ids, a timer schedule
// replaces itself, a purge of nothing is a no-op, so emitting a batch twice
// is safe.
func (w *Worker) emit(ctx context.Context, e *entry, batch history.Batch) error {
	started := e.inst.Started()
	id := started.WorkflowID
	run := started.Run
	key := w.names.InstanceKey(id)
	inbox := w.names.InboxSubject(started.TaskQueue, id)
	// Activity tasks carry the trace context of the workflow task that
	// scheduled them (or, without one, of the start).
	tp, ts := started.TraceParent, ""
	if telemetry.Recording(ctx) {
		tp, ts = telemetry.TraceParent(ctx)
	}
	em := &emission{w: w}
	for _, ev := range batch {
		switch a := ev.Attributes.(type) {
		case *history.WorkflowStarted:
			if d := a.ExecutionTimeout.D(); d > 0 {
				m := timers.NewScheduleMsg(w.timerSubject(id, run, workflowTimerName), inbox, ev.Time.Add(d),
					store.NewWorkflowTimeout(inbox, run, d).Header, nil)
				if err := em.publish(m); err != nil {
					return err
				}
			}
		case *history.ActivityScheduled:
			if err := em.publish(w.taskMsg(started, a, 1, ev.Time, ev.Time, tp, ts)); err != nil {
				return err
			}
			if s2c := a.Options.ScheduleToClose.D(); s2c > 0 {
				m := timers.NewScheduleMsg(w.timerSubject(id, run, activityTimerName(a.ID)), inbox, ev.Time.Add(s2c),
					store.NewActivityTimeout(inbox, run, a.ID).Header, nil)
				if err := em.publish(m); err != nil {
					return err
				}
			}
		case *history.ActivityRetrying:
			sched := e.inst.Activity(a.ID)
			if sched == nil {
				continue
			}
			m := w.taskMsg(started, sched, a.Attempt+1, a.NextAttemptAt, e.inst.ActivityScheduledAt(a.ID), tp, ts)
			if time.Until(a.NextAttemptAt) > 0 {
				// The retry waits in the tasks stream as a schedule that
				// publishes the next attempt at its backoff time.
				m.Header.Del(hdrMsgID)
				m = timers.NewScheduleMsg(w.names.TaskDelaySubject(id, run, strconv.FormatInt(a.ID, 10)), m.Subject,
					a.NextAttemptAt, m.Header, m.Data)
			}
			if err := em.publish(m); err != nil {
				return err
			}
		case *history.ActivityCompleted:
			w.purgeActivityTimer(em, e, a.ID)
		case *history.ActivityFailed:
			w.purgeActivityTimer(em, e, a.ID)
		case *history.ActivityCancelRequested:
			// Tell a worker running it to stop (best effort, not stored).
			_ = w.nc.Publish(activities.CancelSubject(w.names, id, run, strconv.FormatInt(a.ID, 10)), nil)
			w.purgeActivityTimer(em, e, a.ID)
			em.purge(w.tasks, w.names.TaskDelaySubject(id, run, strconv.FormatInt(a.ID, 10)))
		case *history.TimerStarted:
			// The schedule must not carry the fire message's id: the
			// schedule message itself would take it, and the local fast
			// path's fire would then be dropped as a duplicate.
			fire := store.NewTimerFired(inbox, key, run, a.ID).Header
			fire.Del(hdrMsgID)
			var local *timers.Key
			if time.Until(a.FireAt) < w.opts.LocalTimerHorizon {
				local = &timers.Key{Instance: id, Run: run, Timer: strconv.FormatInt(a.ID, 10)}
			}
			w.timerHeaders(ctx, fire, ev, a, local)
			m := timers.NewScheduleMsg(w.timerSubject(id, run, userTimerName(a.ID)), inbox, a.FireAt, fire, nil)
			if err := em.publish(m); err != nil {
				return err
			}
			if local != nil {
				w.local.Add(*local, a.FireAt)
			}
		case *history.WorkflowContinuedAsNew:
			if err := w.continueAsNew(em, id, e.head, started.Parent, ev.Time, a); err != nil {
				return err
			}
		case *history.TimerFired:
			w.local.Remove(timers.Key{Instance: id, Run: run, Timer: strconv.FormatInt(a.ID, 10)})
			w.forgetTimer(timers.Key{Instance: id, Run: run, Timer: strconv.FormatInt(a.ID, 10)})
		case *history.TimerCanceled:
			w.local.Remove(timers.Key{Instance: id, Run: run, Timer: strconv.FormatInt(a.ID, 10)})
			w.forgetTimer(timers.Key{Instance: id, Run: run, Timer: strconv.FormatInt(a.ID, 10)})
			em.purge(w.inbox, w.timerSubject(id, run, userTimerName(a.ID)))
		}
		switch a := ev.Attributes.(type) {
		case *history.ChildWorkflowScheduled:
			if err := w.startChild(ctx, em, started, a, tp); err != nil {
				return err
			}
		case *history.ChildCancelRequested:
			if ch := e.inst.Child(a.ID); ch != nil {
				em.publish(store.NewCancel(w.names.InboxSubject(ch.TaskQueue, ch.WorkflowID), w.names.InstanceKey(ch.WorkflowID), ch.Run, "parent canceled"))
			}
		}
		if ev.IsClose() {
			if err := w.closeChildren(ctx, em, e.inst.OpenChildren()); err != nil {
				return err
			}
			if err := w.notifyParent(em, started, ev); err != nil {
				return err
			}
			if err := w.scheduleRetention(em, id, run, ev); err != nil {
				return err
			}
		}
		if ev.IsClose() && e.inst.HasSchedules() {
			w.closeCommands(em, id, run)
		}
	}
	return em.wait(ctx)
}

func (w *Worker) purgeActivityTimer(em *emission, e *entry, id int64) {
	if a := e.inst.Activity(id); a != nil && a.Options.ScheduleToClose > 0 {
		em.purge(w.inbox, w.timerSubject(e.id, e.head.Run, activityTimerName(id)))
	}
}

// closeCommands drops everything a closed run left pending: its timer
// schedules and delayed activity retries. Only the run's own subjects are
// purged: a new run of the same id may already have made schedules.
func (w *Worker) closeCommands(em *emission, id, run string) {
	w.local.RemoveInstance(id)
	w.forgetTimer(timers.Key{Instance: id})
	em.purge(w.inbox, strings.TrimSuffix(w.names.TimerInstanceFilter(id), ">")+run+".>")
	em.purge(w.tasks, strings.TrimSuffix(w.names.TaskDelayWildcard(), ">")+w.names.InstanceKey(id)+"."+run+".>")
}

// timerSubject is the subject of one durable timer of a run:
// cairn.<ns>.timer.<key>.<run>.<name>.
func (w *Worker) timerSubject(id, run, name string) string {
	return strings.TrimSuffix(w.names.TimerInstanceFilter(id), ">") + run + "." + name
}

func (w *Worker) taskMsg(s *history.WorkflowStarted, a *history.ActivityScheduled, attempt int, scheduled, first time.Time, traceParent, traceState string) *nats.Msg {
	queue := a.Options.TaskQueue
	if queue == "" {
		queue = s.TaskQueue
	}
	t := &activities.Task{
		Namespace:        w.names.Namespace(),
		WorkflowID:       s.WorkflowID,
		Run:              s.Run,
		WorkflowType:     s.WorkflowType,
		ActivityID:       strconv.FormatInt(a.ID, 10),
		ActivityType:     a.ActivityType,
		Attempt:          attempt,
		Scheduled:        scheduled,
		Reply:            w.names.InboxSubject(s.TaskQueue, s.WorkflowID),
		StartToClose:     a.Options.StartToClose.D(),
		ScheduleToStart:  a.Options.ScheduleToStart.D(),
		HeartbeatTimeout: a.Options.HeartbeatTimeout.D(),
		Input:            a.Input,
		TraceParent:      traceParent,
		TraceState:       traceState,
	}
	if s2c := a.Options.ScheduleToClose.D(); s2c > 0 {
		t.Deadline = first.Add(s2c)
	}
	return activities.NewTaskMsg(w.names.TaskSubject(queue, a.ActivityType), t)
}
