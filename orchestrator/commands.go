package orchestrator

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// Timer subjects: user timers and engine timeouts share the instance's
// timer subjects, told apart by a prefix.
const workflowTimerName = "w"

func userTimerName(id int64) string     { return "t" + strconv.FormatInt(id, 10) }
func activityTimerName(id int64) string { return "a" + strconv.FormatInt(id, 10) }

// legacyAttemptTimersName matches the timers of every attempt of an
// activity as engines before the attempt prefix armed them
// (streams.Names.LegacyAttemptTimerSubject: h<id>.<attempt>).
func legacyAttemptTimersName(id int64) string { return "h" + strconv.FormatInt(id, 10) + ".*" }

// hasAttemptTimer reports whether an activity's attempts are timed by the
// engine: it has a start-to-close or a heartbeat timeout.
func hasAttemptTimer(o history.ActivityOptions) bool {
	return o.StartToClose > 0 || o.HeartbeatTimeout > 0
}

// commandKind is what a command does. Which event makes which command is
// the table "Commands are derived from the batch's events" of
// docs/design/engine.md.
type commandKind int

const (
	// cmdWorkflowTimeout is the run's execution timeout: a schedule on
	// timer.<key>.<run>.w targeting the instance's inbox.
	cmdWorkflowTimeout commandKind = iota + 1
	// cmdActivityTask is an activity's first attempt: its task message.
	cmdActivityTask
	// cmdActivityTimeout is an activity's schedule-to-close timer: a
	// schedule on timer.<key>.<run>.a<id>.
	cmdActivityTimeout
	// cmdActivityRetry is an activity's next attempt: a schedule on
	// taskdelay.<key>.<run>.<id> targeting the task subject, or the task
	// message itself when the attempt is already due.
	cmdActivityRetry
	// cmdAttemptClosed marks an attempt that timed out as closed on its
	// attempt timer's subject (replacing the schedule), so a worker handed
	// its task again does not run it.
	cmdAttemptClosed
	// cmdAnnounceCancel tells a worker running an activity to stop (core
	// NATS on subject, not stored, best effort).
	cmdAnnounceCancel
	// cmdTimer is a user timer: a schedule on timer.<key>.<run>.t<id>, and
	// the in-process fast path when it is due soon (timer set).
	cmdTimer
	// cmdDisarmTimer drops the in-process fast path of timer (of every
	// timer of the instance when timer.Timer is empty).
	cmdDisarmTimer
	// cmdPurge purges subject from stream.
	cmdPurge
	// cmdStartChild starts a child run with the client's conditional
	// start (start).
	cmdStartChild
	// cmdCancelChild is the cancel message to a child's inbox.
	cmdCancelChild
	// cmdTerminateChild terminates a child (parent-close policy).
	cmdTerminateChild
	// cmdNotifyParent is the child.closed message to the parent's inbox.
	cmdNotifyParent
	// cmdContinueAsNew is the start wake of the run a closed run continues
	// as.
	cmdContinueAsNew
	// cmdRetention is the schedule that purges a closed instance when its
	// retention ends.
	cmdRetention
	// cmdSummary is the instance summary, written whole before the task is
	// acknowledged. It is not published: the acknowledgement waits for it
	// (ackAfter).
	cmdSummary
)

var commandKindNames = [...]string{cmdWorkflowTimeout: "workflow timeout", cmdActivityTask: "activity task",
	cmdActivityTimeout: "activity timeout", cmdActivityRetry: "activity retry", cmdAttemptClosed: "attempt closed",
	cmdAnnounceCancel: "announce cancel", cmdTimer: "timer", cmdDisarmTimer: "disarm timer", cmdPurge: "purge",
	cmdStartChild: "start child", cmdCancelChild: "cancel child", cmdTerminateChild: "terminate child",
	cmdNotifyParent: "notify parent", cmdContinueAsNew: "continue as new", cmdRetention: "retention", cmdSummary: "summary"}

func (k commandKind) String() string {
	if k > 0 && int(k) < len(commandKindNames) {
		return commandKindNames[k]
	}
	return "command(" + strconv.Itoa(int(k)) + ")"
}

// command is one command of a committed batch, as plain data: commandsOf
// derives them, sendCommands carries them out in order.
type command struct {
	kind commandKind
	// msg is what a publishing command publishes: subject, headers (its
	// Nats-Msg-Id, the schedule headers) and payload. The constructors of
	// store, timers and activities build it: they own the wire format.
	msg *nats.Msg
	// at is when a schedule fires (msg's Nats-Schedule header says it too).
	at time.Time
	// bestEffort: a publish that cannot be queued is no error.
	bestEffort bool
	// subject is what cmdAnnounceCancel announces on and cmdPurge purges;
	// stream is the stream cmdPurge purges.
	subject string
	stream  string
	// timer is the timer cmdTimer arms in process (nil: due too late) and
	// cmdDisarmTimer disarms; timerTrace is what its in-process fire
	// carries for telemetry (nil without telemetry).
	timer      *timers.Key
	timerTrace nats.Header
	// start is cmdStartChild's conditional start.
	start *store.StartRequest
	// terminate is cmdTerminateChild's run.
	terminate *terminateRequest
	// summary is what cmdSummary writes besides the run's replayed state.
	summary *summaryChange
	// err is why the command could not be built: sending stops there with
	// it, after the commands before it.
	err error
}

// terminateRequest names a run to terminate.
type terminateRequest struct {
	workflowID, run, reason string
}

// summaryChange is what a batch changes in the instance summary besides
// the run's search attributes, pause and status.
type summaryChange struct {
	// customStatus is the batch's last StatusSet (nil: unchanged).
	customStatus json.RawMessage
	// closeEv is the event that closes the run (nil: still running).
	closeEv *history.Event
}

// runState is what commandsOf reads of the run's replayed state after the
// batch (an *executor.Instance). Reading it changes nothing.
type runState interface {
	Activity(id int64) *history.ActivityScheduled
	ActivityScheduledAt(id int64) time.Time
	Child(id int64) *history.ChildWorkflowScheduled
	OpenChildren() []*history.ChildWorkflowScheduled
	HasSchedules() bool
}

// runInfo is what commandsOf knows of the run a batch belongs to.
type runInfo struct {
	// id is the instance's workflow id and head its history head (the
	// batch's, once committed).
	id   string
	head *store.Head
	// started is the run's start.
	started *history.WorkflowStarted
	state   runState
	// now is when the commands are derived: a retry due later waits as a
	// schedule, a timer due within the local horizon is armed in process.
	now time.Time
	// traceParent and traceState are the trace context activity tasks and
	// child starts carry: the workflow task's when its span is recording,
	// else the start's. Timer fire messages carry it only when recording.
	traceParent, traceState string
	recording               bool
}

// commandConfig is what the worker's settings bring to commandsOf.
type commandConfig struct {
	names             streams.Names
	localTimerHorizon time.Duration
	retention         time.Duration
	// telemetry: timer fire messages carry the timer's start, due time,
	// name and trace context.
	telemetry bool
	// tokens signs the activity attempts dispatched (Task.Token).
	tokens attemptTokens
}

// closedRun is a run's close, what its close commands need.
type closedRun struct {
	id, run string
	head    *store.Head
	started *history.WorkflowStarted
	closeEv *history.Event
	// open are the children the run left open (parent-close policy).
	open []*history.ChildWorkflowScheduled
	// purgeSchedules: the run made durable schedules that must go.
	purgeSchedules bool
}

// commandsOf derives the commands of a committed batch from its events, as
// the design doc's table says: it decides everything (subjects, message
// ids, headers, payloads, schedule times) and does nothing. Every command
// is idempotent (tasks and notices carry deterministic message ids, a timer
// schedule replaces itself, a purge of nothing is a no-op), so a batch's
// commands can always be sent again.
func commandsOf(batch history.Batch, run runInfo, cfg commandConfig) []command {
	d := newDeriver(run, cfg)
	var cmds []command
	for _, ev := range batch {
		cmds = append(cmds, d.eventCommands(ev)...)
	}
	if c, ok := summaryCommand(batch); ok {
		cmds = append(cmds, c)
	}
	return cmds
}

// deriver holds what every event's commands share.
type deriver struct {
	run   runInfo
	cfg   commandConfig
	names streams.Names
	// id and runID name the run (its start's); key is the instance key and
	// inbox the instance's inbox subject.
	id, runID, key, inbox string
}

func newDeriver(run runInfo, cfg commandConfig) deriver {
	s := run.started
	return deriver{run: run, cfg: cfg, names: cfg.names, id: s.WorkflowID, runID: s.Run,
		key: cfg.names.InstanceKey(s.WorkflowID), inbox: cfg.names.InboxSubject(s.TaskQueue, s.WorkflowID)}
}

// eventCommands are the commands of one event.
func (d deriver) eventCommands(ev *history.Event) []command {
	switch a := ev.Attributes.(type) {
	case *history.WorkflowStarted:
		return d.workflowTimeout(ev, a)
	case *history.ActivityScheduled:
		return d.activityScheduled(ev, a)
	case *history.ActivityRetrying:
		return append(d.attemptClosed(a.ID, a.Attempt, a.Failure), d.activityRetry(a)...)
	case *history.ActivityCompleted:
		return d.activityTimerPurge(a.ID)
	case *history.ActivityFailed:
		return append(d.attemptClosed(a.ID, a.Attempt, a.Failure), d.activityTimerPurge(a.ID)...)
	case *history.ActivityCancelRequested:
		return d.activityCancel(a)
	case *history.TimerStarted:
		return []command{d.timer(ev, a)}
	case *history.TimerFired:
		return []command{d.disarm(a.ID)}
	case *history.TimerCanceled:
		return []command{d.disarm(a.ID), purgeCommand(d.names.InboxStream(), d.timerSubject(userTimerName(a.ID)))}
	case *history.ChildWorkflowScheduled:
		return []command{startChildCommand(d.run.started, a, d.run.traceParent)}
	case *history.ChildCancelRequested:
		return d.childCancel(a)
	}
	if ev.IsClose() {
		return closeCommandsOf(d.cfg, closedRun{id: d.id, run: d.runID, head: d.run.head, started: d.run.started,
			closeEv: ev, open: d.run.state.OpenChildren(), purgeSchedules: d.run.state.HasSchedules()})
	}
	return nil
}

// workflowTimeout is the schedule of a run's execution timeout.
func (d deriver) workflowTimeout(ev *history.Event, a *history.WorkflowStarted) []command {
	timeout := a.ExecutionTimeout.D()
	if timeout <= 0 {
		return nil
	}
	at := ev.Time.Add(timeout)
	h := store.NewWorkflowTimeout(d.inbox, d.runID, timeout).Header
	d.signTimer(h, workflowTimerName)
	return []command{{kind: cmdWorkflowTimeout, at: at, msg: timers.NewScheduleMsg(d.timerSubject(workflowTimerName), d.inbox, at, h, nil)}}
}

// activityScheduled is an activity's first attempt and its
// schedule-to-close timer.
func (d deriver) activityScheduled(ev *history.Event, a *history.ActivityScheduled) []command {
	cmds := []command{{kind: cmdActivityTask, msg: d.taskMsg(a, 1, ev.Time, ev.Time)}}
	if s2c := a.Options.ScheduleToClose.D(); s2c > 0 {
		at := ev.Time.Add(s2c)
		h := store.NewActivityTimeout(d.inbox, d.runID, a.ID).Header
		d.signTimer(h, activityTimerName(a.ID))
		cmds = append(cmds, command{kind: cmdActivityTimeout, at: at, msg: timers.NewScheduleMsg(
			d.timerSubject(activityTimerName(a.ID)), d.inbox, at, h, nil)})
	}
	return cmds
}

// activityRetry is an activity's next attempt: a retry due later waits in
// the tasks stream as a schedule that publishes it at its backoff time.
func (d deriver) activityRetry(a *history.ActivityRetrying) []command {
	sched := d.run.state.Activity(a.ID)
	if sched == nil {
		return nil
	}
	m := d.taskMsg(sched, a.Attempt+1, a.NextAttemptAt, d.run.state.ActivityScheduledAt(a.ID))
	if a.NextAttemptAt.Sub(d.run.now) <= 0 {
		return []command{{kind: cmdActivityRetry, msg: m}}
	}
	m.Header.Del(hdrMsgID)
	return []command{{kind: cmdActivityRetry, at: a.NextAttemptAt, msg: timers.NewScheduleMsg(
		d.names.TaskDelaySubject(d.id, d.runID, strconv.FormatInt(a.ID, 10)), m.Subject, a.NextAttemptAt, m.Header, m.Data)}}
}

// activityTimerPurge drops a closed activity's schedule-to-close timer.
func (d deriver) activityTimerPurge(id int64) []command {
	if a := d.run.state.Activity(id); a != nil && a.Options.ScheduleToClose > 0 {
		return []command{purgeCommand(d.names.InboxStream(), timerSubject(d.names, d.run.id, d.run.head.Run, activityTimerName(id)))}
	}
	return nil
}

// attemptClosed marks an attempt that timed out (start-to-close or
// heartbeat, reported by its attempt timer or by its worker) as closed on
// its attempt timer's subject: the worker that held it may be dead, and
// JetStream then hands its task to another worker after the consumer's
// AckWait; that worker finds the mark and does not run the attempt again.
// Other outcomes come with the worker's result, which purges the timer,
// and the worker acknowledges its task.
func (d deriver) attemptClosed(id int64, attempt int, f *history.Failure) []command {
	sched := d.run.state.Activity(id)
	if sched == nil || !hasAttemptTimer(sched.Options) || attempt < 1 || !activities.IsAttemptTimeout(f) {
		return nil
	}
	aid := strconv.FormatInt(id, 10)
	return []command{{kind: cmdAttemptClosed, msg: activities.NewAttemptClosedMsg(
		d.names.AttemptTimerSubject(d.id, d.runID, aid, attempt), d.runID, aid, attempt)}}
}

// activityCancel tells a worker running the activity to stop and drops
// its timers and delayed retry.
func (d deriver) activityCancel(a *history.ActivityCancelRequested) []command {
	id := strconv.FormatInt(a.ID, 10)
	cmds := []command{{kind: cmdAnnounceCancel, subject: activities.CancelSubject(d.names, d.id, d.runID, id)}}
	cmds = append(cmds, d.activityTimerPurge(a.ID)...)
	if sched := d.run.state.Activity(a.ID); sched != nil && hasAttemptTimer(sched.Options) {
		cmds = append(cmds, purgeCommand(d.names.InboxStream(), d.names.AttemptTimersFilter(d.id, d.runID, id)),
			purgeCommand(d.names.InboxStream(), d.timerSubject(legacyAttemptTimersName(a.ID))))
	}
	return append(cmds, purgeCommand(d.names.TasksStream(), d.names.TaskDelaySubject(d.id, d.runID, id)))
}

// timer is a user timer's schedule. The schedule must not carry the fire
// message's id: the schedule message itself would take it, and the local
// fast path's fire would then be dropped as a duplicate.
func (d deriver) timer(ev *history.Event, a *history.TimerStarted) command {
	fire := store.NewTimerFired(d.inbox, d.key, d.runID, a.ID).Header
	fire.Del(hdrMsgID)
	d.signTimer(fire, userTimerName(a.ID))
	c := command{kind: cmdTimer, at: a.FireAt}
	if a.FireAt.Sub(d.run.now) < d.cfg.localTimerHorizon {
		c.timer = &timers.Key{Instance: d.id, Run: d.runID, Timer: strconv.FormatInt(a.ID, 10)}
	}
	if d.cfg.telemetry {
		c.timerTrace = timerTraceHeaders(fire, ev, a, d.run.traceParent, d.run.traceState, d.run.recording, c.timer != nil)
	}
	c.msg = timers.NewScheduleMsg(d.timerSubject(userTimerName(a.ID)), d.inbox, a.FireAt, fire, nil)
	return c
}

// signTimer puts the token of the run's timer name on the headers of its
// schedule; the server copies it onto the message the schedule fires.
func (d deriver) signTimer(h nats.Header, name string) {
	if tok := d.cfg.tokens.timer(d.id, d.runID, name); tok != "" {
		h.Set(store.HeaderTimerToken, tok)
	}
}

// disarm drops the in-process fast path of a fired or canceled timer.
func (d deriver) disarm(id int64) command {
	return command{kind: cmdDisarmTimer, timer: &timers.Key{Instance: d.id, Run: d.runID, Timer: strconv.FormatInt(id, 10)}}
}

// childCancel is the cancel message to a child the workflow cancels.
func (d deriver) childCancel(a *history.ChildCancelRequested) []command {
	ch := d.run.state.Child(a.ID)
	if ch == nil {
		return nil
	}
	return []command{{kind: cmdCancelChild, bestEffort: true, msg: store.NewCancel(d.names.InboxSubject(ch.TaskQueue, ch.WorkflowID),
		d.names.InstanceKey(ch.WorkflowID), ch.Run, "parent canceled")}}
}

// timerSubject is the subject of one durable timer of the run.
func (d deriver) timerSubject(name string) string { return timerSubject(d.names, d.id, d.runID, name) }

// taskMsg is the task message of one attempt of an activity.
func (d deriver) taskMsg(a *history.ActivityScheduled, attempt int, scheduled, first time.Time) *nats.Msg {
	s := d.run.started
	queue := a.Options.TaskQueue
	if queue == "" {
		queue = s.TaskQueue
	}
	t := &activities.Task{
		ActivityAttempt: history.ActivityAttempt{
			Namespace:        d.names.Namespace(),
			WorkflowID:       s.WorkflowID,
			Run:              s.Run,
			WorkflowType:     s.WorkflowType,
			ActivityID:       strconv.FormatInt(a.ID, 10),
			ActivityType:     a.ActivityType,
			Attempt:          attempt,
			Scheduled:        scheduled,
			HeartbeatTimeout: a.Options.HeartbeatTimeout.D(),
		},
		Reply:           d.names.ActivityInboxSubject(s.TaskQueue, s.WorkflowID),
		StartToClose:    a.Options.StartToClose.D(),
		ScheduleToStart: a.Options.ScheduleToStart.D(),
		Input:           a.Input,
		TraceParent:     d.run.traceParent,
		TraceState:      d.run.traceState,
	}
	if s2c := a.Options.ScheduleToClose.D(); s2c > 0 {
		t.Deadline = first.Add(s2c)
	}
	t.Token = d.cfg.tokens.token(t.WorkflowID, t.Run, t.ActivityID, attempt)
	if hasAttemptTimer(a.Options) {
		t.AttemptTimer = d.names.AttemptTimerSubject(t.WorkflowID, t.Run, t.ActivityID, attempt)
	}
	return activities.NewTaskMsg(d.names.TaskSubject(queue, a.ActivityType), t)
}

// closeCommandsOf are the commands of a run's close: the next run of a
// continue-as-new, the parent-close policy, the notice to the parent, the
// retention schedule and, if the run made schedules, their purge.
func closeCommandsOf(cfg commandConfig, c closedRun) []command {
	var cmds []command
	if a, ok := c.closeEv.Attributes.(*history.WorkflowContinuedAsNew); ok {
		cmds = append(cmds, continueAsNewCommand(cfg.names, c.id, c.head, c.started.Parent, c.closeEv.Time, a))
	}
	cmds = append(cmds, parentCloseCommands(cfg.names, c.open)...)
	if n, ok := notifyParentCommand(cfg.names, c.started, c.closeEv); ok {
		cmds = append(cmds, n)
	}
	if r, ok := retentionCommand(cfg, c.id, c.run, c.closeEv); ok {
		cmds = append(cmds, r)
	}
	if c.purgeSchedules {
		cmds = append(cmds, command{kind: cmdDisarmTimer, timer: &timers.Key{Instance: c.id}})
		cmds = append(cmds, schedulePurges(cfg.names, c.id, c.run)...)
	}
	return cmds
}

// schedulePurges drop everything a closed run left pending: its timer
// schedules and delayed activity retries. Only the run's own subjects are
// purged: a new run of the same id may already have made schedules.
func schedulePurges(names streams.Names, id, run string) []command {
	return []command{
		purgeCommand(names.InboxStream(), strings.TrimSuffix(names.TimerInstanceFilter(id), ">")+run+".>"),
		purgeCommand(names.InboxStream(), names.AttemptTimersFilter(id, run, "")),
		purgeCommand(names.TasksStream(), strings.TrimSuffix(names.TaskDelayWildcard(), ">")+names.InstanceKey(id)+"."+run+".>"),
	}
}

func purgeCommand(stream, subject string) command {
	return command{kind: cmdPurge, stream: stream, subject: subject}
}

// summaryCommand is the summary write a committed batch needs before its
// task is acknowledged (needsSummary): list must show it.
func summaryCommand(batch history.Batch) (command, bool) {
	if !slices.ContainsFunc(batch, needsSummary) {
		return command{}, false
	}
	ch := &summaryChange{}
	for _, ev := range batch {
		if a, ok := ev.Attributes.(*history.StatusSet); ok {
			ch.customStatus = a.Status
		}
		if ev.IsClose() {
			ch.closeEv = ev
		}
	}
	return command{kind: cmdSummary, summary: ch}, true
}

// timerSubject is the subject of one durable timer of a run:
// cairn.<ns>.timer.<key>.<run>.<name>.
func timerSubject(names streams.Names, id, run, name string) string {
	return strings.TrimSuffix(names.TimerInstanceFilter(id), ">") + run + "." + name
}
