package executor

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/coro"
)

// WorkflowFunc is a workflow as the executor sees it: payload in, payload or
// failure out. The SDK adapts typed user functions to it.
type WorkflowFunc func(ctx *Ctx, input json.RawMessage) (json.RawMessage, error)

// Options configure an Instance.
type Options struct {
	// Logger receives the workflow's log lines; lines logged while replaying
	// are dropped so a replay never repeats them.
	Logger *slog.Logger
	// DeadlockTimeout bounds how long workflow code may run without
	// yielding (it signals blocking I/O or real goroutines in workflow code).
	DeadlockTimeout time.Duration
	// MaxHistoryEvents bounds a run's history (default
	// DefaultMaxHistoryEvents): a task that would pass it fails with a
	// *HistoryLimitError instead of committing, and the instance parks
	// until code that continues as new earlier is deployed.
	MaxHistoryEvents int64
}

// DefaultMaxHistoryEvents is the default bound of a run's history.
const DefaultMaxHistoryEvents = 50_000

// Instance is one run of a workflow, live in memory.
type Instance struct {
	fn      WorkflowFunc
	opts    Options
	sched   *coro.Scheduler
	started *history.WorkflowStarted
	root    *Ctx
	rnd     *rand.Rand
	logger  *slog.Logger

	now       time.Time
	startTime time.Time
	lastSeq   int64 // sequence of the last event appended (committed or pending)

	// Replay bookkeeping: every recorded command, in order, with the index
	// of the batch it was committed in.
	recorded []*history.Event
	recBatch []int
	versions map[string]int
	// versionSeen holds the versions already returned by GetVersion in
	// this run; later calls for the same change return them unrecorded.
	versionSeen map[string]int
	nextCmd     int
	batchIndex  int
	replaying   bool
	hasRun      bool

	activities map[int64]*activity
	timers     map[int64]*timer
	children   map[int64]*child
	callbacks  map[int64]*callback
	queries    map[string]QueryFunc
	inQuery    bool
	// signals buffers received events, in arrival order, until the code
	// takes them; seenSignals de-duplicates repeated raises.
	signals     []*history.SignalReceived
	seenSignals map[string]bool
	cancelReq   bool
	retried     bool
	// searchAttrs are the run's search attributes once it upserted any
	// (see search.go); nil means those of its start.
	searchAttrs map[string]history.SearchValue

	pending history.Batch // events of the task being executed
	closed  *history.Event

	// Commit barriers (see Ctx.AwaitCommitted): commitGen counts the
	// tasks (live) or batches (replay) begun, batchEvents the events of
	// the batch being replayed that the code has met so far.
	commitGen      int
	awaitingCommit bool
	batchEvents    int

	// paused is set between WorkflowPaused and WorkflowResumed; a cancel
	// request that came meanwhile waits in heldCancel (see pause.go).
	paused     bool
	heldCancel *history.Event

	// fatal is set when the code broke determinism or panicked; the
	// instance must then be discarded.
	fatal error
}

type activity struct {
	id       int64
	attrs    *history.ActivityScheduled
	typ      string
	attempt  int
	opts     history.ActivityOptions
	sched    time.Time
	future   *coro.Future
	closed   bool
	canceled bool
}

type timer struct {
	id     int64
	fireAt time.Time
	future *coro.Future
	done   bool
}

// New prepares an instance for the run described by start. Call Replay (for
// an existing history, which begins with start's batch) before Execute.
func New(fn WorkflowFunc, opts Options) *Instance {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DeadlockTimeout <= 0 {
		opts.DeadlockTimeout = time.Second
	}
	if opts.MaxHistoryEvents <= 0 {
		opts.MaxHistoryEvents = DefaultMaxHistoryEvents
	}
	in := &Instance{
		fn:          fn,
		opts:        opts,
		sched:       coro.NewScheduler(coro.WithDeadlockTimeout(opts.DeadlockTimeout)),
		versions:    map[string]int{},
		activities:  map[int64]*activity{},
		timers:      map[int64]*timer{},
		children:    map[int64]*child{},
		callbacks:   map[int64]*callback{},
		queries:     map[string]QueryFunc{},
		seenSignals: map[string]bool{},
	}
	in.logger = slog.New(&replayHandler{inner: opts.Logger.Handler(), in: in})
	return in
}

// Started returns the run's start event attributes (nil before Replay).
func (in *Instance) Started() *history.WorkflowStarted { return in.started }

// Activity returns the scheduled attributes of activity id (nil if none).
func (in *Instance) Activity(id int64) *history.ActivityScheduled {
	if a := in.activities[id]; a != nil {
		return a.attrs
	}
	return nil
}

// ActivityOpen reports whether the run's activity id was scheduled and
// has not closed.
func (in *Instance) ActivityOpen(id int64) bool {
	a := in.activities[id]
	return a != nil && !a.closed
}

// ActivityScheduledAt returns when activity id was first scheduled.
func (in *Instance) ActivityScheduledAt(id int64) time.Time {
	if a := in.activities[id]; a != nil {
		return a.sched
	}
	return time.Time{}
}

// HasSchedules reports whether the run ever created a durable schedule
// (a timer, a schedule-to-close deadline, a delayed retry or an execution
// timeout), or may have one left by a worker (the attempt timer of an
// activity still open), so closing it needs to purge schedules. A closed
// activity's attempt timers are gone: its result purged them, or they
// fired (the mark of a last attempt that timed out stays until the
// instance's retention ends).
func (in *Instance) HasSchedules() bool {
	if len(in.timers) > 0 || in.started.ExecutionTimeout > 0 || in.retried {
		return true
	}
	for _, a := range in.activities {
		if a.opts.ScheduleToClose > 0 || (!a.closed && (a.opts.StartToClose > 0 || a.opts.HeartbeatTimeout > 0)) {
			return true
		}
	}
	return false
}

// StartTime returns when the run started.
func (in *Instance) StartTime() time.Time { return in.startTime }

// TimerOpen reports whether the run's timer id was started and has neither
// fired nor been canceled.
func (in *Instance) TimerOpen(id int64) bool {
	t := in.timers[id]
	return t != nil && !t.done
}

// TimerFireAt returns when the run's open timer id is due; ok is false
// when it is not open.
func (in *Instance) TimerFireAt(id int64) (at time.Time, ok bool) {
	t := in.timers[id]
	if t == nil || t.done {
		return time.Time{}, false
	}
	return t.fireAt, true
}

// LastSeq returns the sequence of the last event of the run.
func (in *Instance) LastSeq() int64 { return in.lastSeq }

// Closed returns the event that closed the run, or nil while it is open.
func (in *Instance) Closed() *history.Event { return in.closed }

// Fatal returns the error that made the instance unusable, if any.
func (in *Instance) Fatal() error { return in.fatal }

// IsReplaying reports whether the code is re-running recorded history.
func (in *Instance) IsReplaying() bool { return in.replaying }

// Now is the deterministic workflow clock: the start time of the task being
// executed or replayed.
func (in *Instance) Now() time.Time { return in.now }

// Logger is the replay-aware logger of the run.
func (in *Instance) Logger() *slog.Logger { return in.logger }

// Close releases the coroutines of the instance. It is safe to call more
// than once.
func (in *Instance) Close() { in.sched.Close() }

// Replay rebuilds the instance from its committed batches, running the
// workflow code through them. The first batch must start with
// WorkflowStarted.
func (in *Instance) Replay(batches []history.Batch) error {
	if len(batches) == 0 || len(batches[0]) == 0 || batches[0][0].Type != history.TypeWorkflowStarted {
		return errors.New("executor: history does not begin with WorkflowStarted")
	}
	for b, batch := range batches {
		for _, ev := range batch {
			if ev.IsCommand() {
				in.recorded = append(in.recorded, ev)
				in.recBatch = append(in.recBatch, b)
				if vm, ok := ev.Attributes.(*history.VersionMarker); ok {
					in.versions[vm.ChangeID] = vm.Version
				}
			}
		}
	}
	in.replaying = true
	defer func() { in.replaying = false }()
	through := 0 // recorded commands up to and including batch b
	for b, batch := range batches {
		in.batchIndex = b
		if len(batch) == 0 {
			continue
		}
		in.now = batch[0].Time
		in.batchEvents = 0
		if b > 0 && in.closed == nil {
			if err := in.passCommit(); err != nil {
				return err
			}
		}
		runCode := false
		for _, ev := range batch {
			if ev.Seq != in.lastSeq+1 {
				return fmt.Errorf("executor: history of %q has event %d after %d", in.workflowID(), ev.Seq, in.lastSeq)
			}
			in.lastSeq = ev.Seq
			if ev.IsCommand() {
				runCode = true
				continue
			}
			if ev.Type == history.TypeWorkflowStarted {
				in.startTime = ev.Time
				in.start(ev.Attributes.(*history.WorkflowStarted))
				continue
			}
			in.batchEvents++
			wake, err := in.record(ev)
			if err != nil {
				return err
			}
			runCode = runCode || wake
			if ev.Type == history.TypeWorkflowTerminated || ev.Type == history.TypeWorkflowTimedOut {
				in.closed = ev
			}
		}
		// The first batch is the start (written by the client, with any
		// signal-with-start events): code first runs in the next task.
		if runCode && in.closed == nil && !in.paused && b > 0 {
			if err := in.run(); err != nil {
				return err
			}
		}
		for through < len(in.recBatch) && in.recBatch[through] <= b {
			through++
		}
		if in.nextCmd != through && in.fatal == nil {
			rec := in.recorded[in.nextCmd]
			in.fatal = &NonDeterminismError{WorkflowID: in.workflowID(), Run: in.started.Run,
				EventSeq: rec.Seq, Expected: describe(rec), Actual: "nothing (the code is blocked)"}
		}
		if in.fatal != nil {
			return in.fatal
		}
	}
	return nil
}

// Execute runs one live workflow task. inbound holds the events made from
// the inbox messages that woke the instance; the ones the run has already
// seen, or that no longer apply, are dropped. It returns the batch to
// commit (empty when nothing changed). The batch counts as committed: if
// the commit fails the caller must discard the instance.
func (in *Instance) Execute(now time.Time, inbound []*history.Event) (history.Batch, error) {
	if in.fatal != nil {
		return nil, in.fatal
	}
	if in.started == nil {
		return nil, errors.New("executor: Execute before Replay")
	}
	in.now = now
	in.pending = nil
	in.batchIndex = -1
	if in.closed == nil {
		// The previous task's batch is committed: code waiting for that
		// runs first, before anything new arrives, as it does on replay.
		if err := in.passCommit(); err != nil {
			return nil, err
		}
	}
	applied := false
	for _, ev := range inbound {
		if in.closed != nil {
			break
		}
		ev = in.accept(ev)
		if ev == nil {
			continue
		}
		in.append(ev)
		wake, err := in.record(ev)
		if err != nil {
			return nil, err
		}
		applied = applied || wake
		if ev.Type == history.TypeWorkflowTerminated || ev.Type == history.TypeWorkflowTimedOut {
			in.closed = ev
		}
	}
	if (applied || !in.hasRun) && in.closed == nil && !in.paused {
		if err := in.run(); err != nil {
			return nil, err
		}
	}
	out := in.pending
	in.pending = nil
	if in.lastSeq > in.opts.MaxHistoryEvents && in.closed == nil {
		in.fatal = &HistoryLimitError{WorkflowID: in.workflowID(), Run: in.started.Run, EventSeq: in.lastSeq,
			Measure: HistoryEvents, Value: in.lastSeq, Limit: in.opts.MaxHistoryEvents}
		return nil, in.fatal
	}
	return out, nil
}

// AwaitingCommit reports whether code waits for the batch just returned
// by Execute to commit: the caller must then commit it and call Execute
// again (with no inbound events if none are at hand) before it
// acknowledges what woke the instance, so a crash in between redoes both.
func (in *Instance) AwaitingCommit() bool { return in.awaitingCommit }

// passCommit marks the start of a task (or of a replayed batch): what was
// recorded before is committed, so code blocked in AwaitCommitted runs on.
func (in *Instance) passCommit() error {
	in.commitGen++
	if !in.awaitingCommit || !in.hasRun {
		return nil
	}
	in.awaitingCommit = false
	return in.run()
}

// uncommitted counts the events of the current task not yet committed;
// replay counts the same events of the batch being replayed, so a barrier
// blocks in replay exactly where it blocked live.
func (in *Instance) uncommitted() int {
	if in.replaying {
		return in.batchEvents
	}
	return len(in.pending)
}

// Terminate closes the run without running its code.
func (in *Instance) Terminate(now time.Time, reason string) history.Batch {
	if in.closed != nil {
		return nil
	}
	in.now = now
	ev := &history.Event{Type: history.TypeWorkflowTerminated, Attributes: &history.WorkflowTerminated{Reason: reason}}
	in.append(ev)
	in.closed = ev
	out := in.pending
	in.pending = nil
	return out
}

func (in *Instance) append(ev *history.Event) {
	in.lastSeq++
	ev.Seq = in.lastSeq
	ev.Time = in.now
	in.pending = append(in.pending, ev)
}

func (in *Instance) workflowID() string {
	if in.started == nil {
		return ""
	}
	return in.started.WorkflowID
}

func (in *Instance) start(ws *history.WorkflowStarted) {
	in.started = ws
	in.rnd = rand.New(rand.NewPCG(ws.RandomSeed, ws.RandomSeed^0x9e3779b97f4a7c15))
	in.root = &Ctx{inst: in, scope: newScope()}
	root := in.root
	input := ws.Input
	in.sched.Go("root", func(co *coro.Coroutine) {
		result, err := in.fn(root, input)
		in.finish(result, err)
	})
}

// run advances the coroutines until all block, then records the close
// command if the workflow function returned.
func (in *Instance) run() error {
	in.hasRun = true
	err := in.sched.Run()
	if in.fatal != nil {
		return in.fatal
	}
	if err != nil {
		var pe *coro.PanicError
		if errors.As(err, &pe) {
			if nde, ok := pe.Value.(*NonDeterminismError); ok {
				in.fatal = nde
				return nde
			}
			in.fatal = &TaskPanicError{WorkflowID: in.workflowID(), Run: in.started.Run, Value: fmt.Sprint(pe.Value), Stack: pe.Stack}
			return in.fatal
		}
		in.fatal = &TaskPanicError{WorkflowID: in.workflowID(), Run: in.started.Run, Value: err.Error()}
		return in.fatal
	}
	return nil
}

// finish runs in the root coroutine when the workflow function returns.
func (in *Instance) finish(result json.RawMessage, err error) {
	var ev *history.Event
	var can *ContinueAsNewError
	switch {
	case errors.As(err, &can):
		ev = &history.Event{Type: history.TypeWorkflowContinuedAsNew, Attributes: &history.WorkflowContinuedAsNew{
			Input: can.Input, NextRun: in.nextRunID(), Events: in.signals,
			SearchAttributes: in.SearchAttributes(), Memo: in.started.Memo}}
	case err == nil:
		ev = &history.Event{Type: history.TypeWorkflowCompleted, Attributes: &history.WorkflowCompleted{Result: result}}
	case in.cancelReq && isCanceled(err):
		ev = &history.Event{Type: history.TypeWorkflowCanceled, Attributes: &history.WorkflowCanceled{Failure: history.FailureOf(err)}}
	default:
		ev = &history.Event{Type: history.TypeWorkflowFailed, Attributes: &history.WorkflowFailed{Failure: history.FailureOf(err)}}
	}
	got := in.command(ev)
	in.closed = got
}

// nextRunID draws the id of a continued run from the run's deterministic
// random source, so replay derives the same one.
func (in *Instance) nextRunID() string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 22)
	for i := range b {
		b[i] = digits[in.rnd.IntN(len(digits))]
	}
	return string(b)
}

func isCanceled(err error) bool {
	f := history.FailureOf(err)
	for ; f != nil; f = f.Cause {
		if f.Type == history.FailureCanceled {
			return true
		}
	}
	return false
}

// command records a decision of the workflow code. While replaying it
// returns the recorded event at the same position (after checking that it is
// the same decision); live, it appends ev to the pending batch. A mismatch
// panics with a *NonDeterminismError, which unwinds the coroutine and stops
// the task.
func (in *Instance) command(ev *history.Event) *history.Event {
	if in.inQuery {
		panic("query handlers must not change the workflow (it issued " + describe(ev) + ")")
	}
	k := in.nextCmd
	in.nextCmd++
	if !in.replaying {
		if k < len(in.recorded) {
			// Live code re-issuing commands that exist in history cannot
			// happen: Replay consumed them all.
			in.mismatch(in.recorded[k], ev)
		}
		in.append(ev)
		return ev
	}
	if k >= len(in.recorded) || in.recBatch[k] != in.batchIndex {
		var rec *history.Event
		if k < len(in.recorded) {
			rec = in.recorded[k]
		}
		in.mismatch(rec, ev)
	}
	rec := in.recorded[k]
	if identity(rec) != identity(ev) {
		in.mismatch(rec, ev)
	}
	in.batchEvents++
	return rec
}

func (in *Instance) mismatch(rec, ev *history.Event) {
	nde := &NonDeterminismError{WorkflowID: in.workflowID(), Run: in.started.Run,
		Expected: "nothing", Actual: describe(ev), Location: callerOutsideEngine()}
	if rec != nil {
		nde.EventSeq = rec.Seq
		nde.Expected = describe(rec)
	}
	in.fatal = nde
	panic(nde)
}

// safeApply applies ev, turning a non-determinism detected by a command it
// issues outside any coroutine (a cancellation cascading to activities and
// timers) into an error rather than a panic of the worker.
func (in *Instance) safeApply(ev *history.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			nde, ok := r.(*NonDeterminismError)
			if !ok {
				panic(r)
			}
			err = nde
		}
	}()
	in.apply(ev)
	return nil
}

// apply feeds a non-command event to the run.
func (in *Instance) apply(ev *history.Event) {
	switch a := ev.Attributes.(type) {
	case *history.ActivityCompleted:
		if act := in.activities[a.ID]; act != nil && !act.closed {
			act.closed = true
			act.future.Set(a.Result, nil)
		}
	case *history.ActivityFailed:
		if act := in.activities[a.ID]; act != nil && !act.closed {
			act.closed = true
			act.future.Set(nil, &ActivityFailure{ActivityType: act.typ, ID: a.ID, Attempt: a.Attempt,
				RetryState: retryStateOf(act.opts, a.Attempt, a.Failure), Failure: a.Failure})
		}
	case *history.ActivityRetrying:
		in.retried = true
		if act := in.activities[a.ID]; act != nil {
			act.attempt = a.Attempt + 1
		}
	case *history.TimerFired:
		if t := in.timers[a.ID]; t != nil && !t.done {
			t.done = true
			t.future.Set(nil, nil)
		}
	case *history.ChildWorkflowCompleted, *history.ChildWorkflowFailed:
		in.applyChild(ev)
	case *history.CallbackCompleted, *history.CallbackFailed, *history.CallbackHeartbeat:
		in.applyCallback(ev)
	case *history.SignalReceived:
		in.seenSignals[a.ID] = true
		in.signals = append(in.signals, a)
	case *history.WorkflowCancelRequested:
		in.cancelReq = true
		in.root.scope.cancel(&history.Failure{Type: history.FailureCanceled, Message: "workflow canceled: " + a.Reason})
	}
}
