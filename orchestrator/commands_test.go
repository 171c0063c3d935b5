package orchestrator

import (
	"encoding/json"
	"hash/fnv"
	"reflect"
	"testing"
	"time"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// The instance of these tests: workflow id "order/1" (instance key
// "order=2F1"), run r1, queue q, namespace ns.
var (
	t0        = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	testNames = streams.NewNames("ns")
)

const (
	testID    = "order/1"
	testRun   = "r1"
	testInbox = "cairn.ns.inbox.q.181.order=2F1"
)

// fakeRun is a run's replayed state, as commandsOf reads it.
type fakeRun struct {
	activities  map[int64]*history.ActivityScheduled
	scheduledAt map[int64]time.Time
	children    map[int64]*history.ChildWorkflowScheduled
	open        []*history.ChildWorkflowScheduled
	schedules   bool
}

func (f fakeRun) Activity(id int64) *history.ActivityScheduled      { return f.activities[id] }
func (f fakeRun) ActivityScheduledAt(id int64) time.Time            { return f.scheduledAt[id] }
func (f fakeRun) Child(id int64) *history.ChildWorkflowScheduled    { return f.children[id] }
func (f fakeRun) OpenChildren() []*history.ChildWorkflowScheduled   { return f.open }
func (f fakeRun) HasSchedules() bool                                { return f.schedules }
func ev(seq int64, typ history.EventType, attrs any) *history.Event { return evAt(seq, t0, typ, attrs) }
func evAt(seq int64, at time.Time, typ history.EventType, a any) *history.Event {
	return &history.Event{Seq: seq, Time: at, Type: typ, Attributes: a}
}

func testStarted() *history.WorkflowStarted {
	return &history.WorkflowStarted{WorkflowType: "Order", WorkflowID: testID, Run: testRun, TaskQueue: "q",
		TraceParent: "00-start-01"}
}

func testRunInfo(state fakeRun) runInfo {
	return runInfo{id: testID, head: &store.Head{Seq: 42, Run: testRun, WorkflowType: "Order", TaskQueue: "q"},
		started: testStarted(), state: state, now: t0, traceParent: "00-start-01"}
}

func testConfig() commandConfig {
	return commandConfig{names: testNames, localTimerHorizon: 10 * time.Minute, retention: 7 * 24 * time.Hour}
}

// charge is an activity with a schedule-to-close timeout.
var charge = &history.ActivityScheduled{ID: 3, ActivityType: "charge", Input: json.RawMessage(`{"cents":100}`),
	Options: history.ActivityOptions{ScheduleToClose: history.Duration(10 * time.Minute), StartToClose: history.Duration(time.Minute)}}

// heartbeatTimeout is the failure of an attempt whose heartbeat timer
// fired.
var heartbeatTimeout = (&activities.AttemptTimeout{Attempt: 2, Kind: "heartbeat"}).Failure()

// want is what a command must be. Headers map a header to its value, ""
// meaning absent.
type want struct {
	kind    commandKind
	subject string
	stream  string
	at      time.Time
	headers map[string]string
	timer   *timers.Key
	check   func(t *testing.T, c command)
}

func checkCommands(t *testing.T, got []command, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		kinds := make([]string, len(got))
		for i, c := range got {
			kinds[i] = c.kind.String()
		}
		t.Fatalf("got %d commands %v, want %d", len(got), kinds, len(wants))
	}
	for i, w := range wants {
		c := got[i]
		if c.err != nil {
			t.Errorf("command %d (%s): err %v", i, c.kind, c.err)
		}
		if c.kind != w.kind {
			t.Errorf("command %d: kind %s, want %s", i, c.kind, w.kind)
			continue
		}
		subject := c.subject
		if c.msg != nil {
			subject = c.msg.Subject
		}
		if subject != w.subject {
			t.Errorf("command %d (%s): subject %q, want %q", i, c.kind, subject, w.subject)
		}
		if c.stream != w.stream {
			t.Errorf("command %d (%s): stream %q, want %q", i, c.kind, c.stream, w.stream)
		}
		if !c.at.Equal(w.at) {
			t.Errorf("command %d (%s): at %v, want %v", i, c.kind, c.at, w.at)
		}
		if !w.at.IsZero() && c.msg != nil {
			if got, want := c.msg.Header.Get(timers.HeaderSchedule), timers.At(w.at); got != want {
				t.Errorf("command %d (%s): schedule %q, want %q", i, c.kind, got, want)
			}
		}
		for k, v := range w.headers {
			if got := c.msg.Header.Get(k); got != v {
				t.Errorf("command %d (%s): header %s = %q, want %q", i, c.kind, k, got, v)
			}
		}
		if !reflect.DeepEqual(c.timer, w.timer) {
			t.Errorf("command %d (%s): timer %+v, want %+v", i, c.kind, c.timer, w.timer)
		}
		if w.check != nil {
			w.check(t, c)
		}
	}
}

func taskOf(t *testing.T, c command) *activities.Task {
	t.Helper()
	task, err := activities.ParseTask(c.msg.Header, c.msg.Data)
	if err != nil {
		t.Fatalf("task message: %v", err)
	}
	return task
}

// TestCommandsOf has a case per row of the design doc's table "Commands
// are derived from the batch's events" (docs/design/engine.md): subjects,
// message ids, schedules and headers are the durable de-duplication
// contract.
func TestCommandsOf(t *testing.T) {
	withCharge := fakeRun{activities: map[int64]*history.ActivityScheduled{3: charge},
		scheduledAt: map[int64]time.Time{3: t0.Add(-time.Minute)}}
	completed := ev(9, history.TypeWorkflowCompleted, &history.WorkflowCompleted{Result: json.RawMessage(`"done"`)})
	continued := ev(9, history.TypeWorkflowContinuedAsNew, &history.WorkflowContinuedAsNew{NextRun: "r2",
		Input: json.RawMessage(`2`), Events: []*history.SignalReceived{{Name: "more", ID: "s1", Payload: json.RawMessage(`1`)}}})
	workflowTimeout := want{kind: cmdWorkflowTimeout, subject: "cairn.ns.timer.order=2F1.r1.w", at: t0.Add(time.Hour),
		headers: map[string]string{"Nats-Schedule": "@at 2025-01-02T04:04:05.000000006Z",
			"Nats-Schedule-Target": testInbox, "Cairn-Kind": "workflow.timeout", "Cairn-Run": testRun,
			"Cairn-Timeout": "3600000000000", "Nats-Msg-Id": ""}}
	retention := want{kind: cmdRetention, subject: "cairn.ns.retention.schedule.order=2F1", at: t0.Add(7 * 24 * time.Hour),
		headers: map[string]string{"Nats-Schedule-Target": "cairn.ns.retention.due.order=2F1", "Cairn-Run": testRun, "Nats-Msg-Id": ""}}
	purges := []want{
		{kind: cmdDisarmTimer, timer: &timers.Key{Instance: testID}},
		{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.>"},
		{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.attempt.order=2F1.r1.>"},
		{kind: cmdPurge, stream: "cairn-ns-tasks", subject: "cairn.ns.taskdelay.order=2F1.r1.>"},
	}
	summary := func(status string, closeEv *history.Event) want {
		return want{kind: cmdSummary, check: func(t *testing.T, c command) {
			if string(c.summary.customStatus) != status || c.summary.closeEv != closeEv {
				t.Errorf("summary %s %v, want %s %v", c.summary.customStatus, c.summary.closeEv, status, closeEv)
			}
		}}
	}

	cases := []struct {
		name  string
		batch history.Batch
		state fakeRun
		cfg   func(*commandConfig)
		run   func(*runInfo)
		want  []want
	}{{
		name: "WorkflowStarted with an execution timeout: schedule on timer.<key>.<run>.w",
		batch: history.Batch{ev(1, history.TypeWorkflowStarted, &history.WorkflowStarted{WorkflowID: testID, Run: testRun,
			TaskQueue: "q", ExecutionTimeout: history.Duration(time.Hour)})},
		want: []want{workflowTimeout},
	}, {
		name:  "WorkflowStarted without an execution timeout: nothing",
		batch: history.Batch{ev(1, history.TypeWorkflowStarted, &history.WorkflowStarted{WorkflowID: testID, Run: testRun})},
	}, {
		name:  "ActivityScheduled: task message (reply on the activity subject) and schedule-to-close timer on timer.<key>.<run>.a<id>",
		batch: history.Batch{ev(5, history.TypeActivityScheduled, charge)},
		want: []want{{kind: cmdActivityTask, subject: "cairn.ns.task.q.charge",
			headers: map[string]string{"Nats-Msg-Id": "ns/order/1/r1/3/1", "Nats-Schedule": "", "traceparent": "00-start-01"},
			check: func(t *testing.T, c command) {
				task := taskOf(t, c)
				if task.Attempt != 1 || !task.Scheduled.Equal(t0) || !task.Deadline.Equal(t0.Add(10*time.Minute)) ||
					task.Reply != testInbox+".activity" || string(task.Input) != `{"cents":100}` || task.StartToClose != time.Minute ||
					task.AttemptTimer != "cairn.ns.attempt.order=2F1.r1.3.1" {
					t.Errorf("task %+v", task)
				}
			}}, {kind: cmdActivityTimeout, subject: "cairn.ns.timer.order=2F1.r1.a3", at: t0.Add(10 * time.Minute),
			headers: map[string]string{"Nats-Schedule-Target": testInbox, "Cairn-Kind": "activity.timeout",
				"Cairn-Activity-Id": "3", "Cairn-Run": testRun, "Nats-Msg-Id": ""}}},
	}, {
		name: "ActivityScheduled on another queue, no schedule-to-close: task message only",
		batch: history.Batch{ev(5, history.TypeActivityScheduled, &history.ActivityScheduled{ID: 4, ActivityType: "Ship It",
			Options: history.ActivityOptions{TaskQueue: "other"}})},
		want: []want{{kind: cmdActivityTask, subject: "cairn.ns.task.other.Ship=20It",
			headers: map[string]string{"Nats-Msg-Id": "ns/order/1/r1/4/1", "Cairn-Deadline": "", "Cairn-Attempt-Timer": ""}}},
	}, {
		name: "ActivityScheduled with a heartbeat timeout only: the task names its attempt timer",
		batch: history.Batch{ev(5, history.TypeActivityScheduled, &history.ActivityScheduled{ID: 4, ActivityType: "beat",
			Options: history.ActivityOptions{HeartbeatTimeout: history.Duration(time.Second)}})},
		want: []want{{kind: cmdActivityTask, subject: "cairn.ns.task.q.beat",
			headers: map[string]string{"Nats-Msg-Id": "ns/order/1/r1/4/1", "Cairn-Heartbeat-Timeout": "1s",
				"Cairn-Attempt-Timer": "cairn.ns.attempt.order=2F1.r1.4.1"}}},
	}, {
		name: "ActivityRetrying later: schedule on taskdelay.<key>.<run>.<activity> targeting the task subject",
		batch: history.Batch{ev(6, history.TypeActivityRetrying, &history.ActivityRetrying{ID: 3, Attempt: 1,
			NextAttemptAt: t0.Add(30 * time.Second)})},
		state: withCharge,
		want: []want{{kind: cmdActivityRetry, subject: "cairn.ns.taskdelay.order=2F1.r1.3", at: t0.Add(30 * time.Second),
			headers: map[string]string{"Nats-Schedule-Target": "cairn.ns.task.q.charge", "Nats-Msg-Id": "", "Cairn-Attempt": "2"},
			check: func(t *testing.T, c command) {
				task := taskOf(t, c)
				if task.MsgID() != "ns/order/1/r1/3/2" || !task.Scheduled.Equal(t0.Add(30*time.Second)) ||
					!task.Deadline.Equal(t0.Add(9*time.Minute)) || task.AttemptTimer != "cairn.ns.attempt.order=2F1.r1.3.2" {
					t.Errorf("task %+v", task)
				}
			}}},
	}, {
		name:  "ActivityRetrying already due: the task message itself",
		batch: history.Batch{ev(6, history.TypeActivityRetrying, &history.ActivityRetrying{ID: 3, Attempt: 2, NextAttemptAt: t0})},
		state: withCharge,
		want: []want{{kind: cmdActivityRetry, subject: "cairn.ns.task.q.charge",
			headers: map[string]string{"Nats-Msg-Id": "ns/order/1/r1/3/3", "Nats-Schedule": "", "Cairn-Attempt": "3"}}},
	}, {
		name: "ActivityRetrying after an attempt timeout: the attempt is marked closed on its timer, then the retry",
		batch: history.Batch{ev(6, history.TypeActivityRetrying, &history.ActivityRetrying{ID: 3, Attempt: 2, NextAttemptAt: t0,
			Failure: heartbeatTimeout})},
		state: withCharge,
		want: []want{{kind: cmdAttemptClosed, subject: "cairn.ns.attempt.order=2F1.r1.3.2",
			headers: map[string]string{"Cairn-Kind": "activity.attempt.closed", "Cairn-Run": testRun, "Cairn-Activity-Id": "3",
				"Cairn-Attempt": "2", "Nats-Rollup": "sub", "Nats-Schedule": "", "Nats-Msg-Id": ""}},
			{kind: cmdActivityRetry, subject: "cairn.ns.task.q.charge", headers: map[string]string{"Cairn-Attempt": "3"}}},
	}, {
		name: "ActivityRetrying after another failure: the retry only (the worker's result purged the timer)",
		batch: history.Batch{ev(6, history.TypeActivityRetrying, &history.ActivityRetrying{ID: 3, Attempt: 2, NextAttemptAt: t0,
			Failure: &history.Failure{Type: history.FailureTimeout, Message: "late", Details: json.RawMessage(`{"kind":"schedule-to-start"}`)}})},
		state: withCharge,
		want:  []want{{kind: cmdActivityRetry, subject: "cairn.ns.task.q.charge", headers: map[string]string{"Cairn-Attempt": "3"}}},
	}, {
		name:  "ActivityRetrying of an activity the run does not know: nothing",
		batch: history.Batch{ev(6, history.TypeActivityRetrying, &history.ActivityRetrying{ID: 8, Attempt: 1, NextAttemptAt: t0})},
		state: withCharge,
	}, {
		name:  "TimerStarted due soon: schedule on timer.<key>.<run>.t<id> and local fast path",
		batch: history.Batch{ev(7, history.TypeTimerStarted, &history.TimerStarted{ID: 5, Name: "wait", FireAt: t0.Add(time.Minute)})},
		want: []want{{kind: cmdTimer, subject: "cairn.ns.timer.order=2F1.r1.t5", at: t0.Add(time.Minute),
			timer: &timers.Key{Instance: testID, Run: testRun, Timer: "5"},
			headers: map[string]string{"Nats-Schedule-Target": testInbox, "Cairn-Kind": "timer.fired", "Cairn-Run": testRun,
				"Cairn-Timer-Id": "5", "Nats-Msg-Id": "", hdrTimerName: ""},
			check: func(t *testing.T, c command) {
				if c.timerTrace != nil {
					t.Errorf("timer trace %v without telemetry", c.timerTrace)
				}
			}}},
	}, {
		name:  "TimerStarted past the local horizon: schedule only",
		batch: history.Batch{ev(7, history.TypeTimerStarted, &history.TimerStarted{ID: 5, FireAt: t0.Add(time.Hour)})},
		want: []want{{kind: cmdTimer, subject: "cairn.ns.timer.order=2F1.r1.t5", at: t0.Add(time.Hour),
			headers: map[string]string{"Cairn-Timer-Id": "5", "Nats-Msg-Id": ""}}},
	}, {
		name:  "TimerStarted with telemetry: the fire message carries the timer's trace",
		batch: history.Batch{ev(7, history.TypeTimerStarted, &history.TimerStarted{ID: 5, Name: "wait", FireAt: t0.Add(time.Minute)})},
		cfg:   func(c *commandConfig) { c.telemetry = true },
		run: func(r *runInfo) {
			r.recording, r.traceParent, r.traceState = true, "00-task-01", "k=v"
		},
		want: []want{{kind: cmdTimer, subject: "cairn.ns.timer.order=2F1.r1.t5", at: t0.Add(time.Minute),
			timer: &timers.Key{Instance: testID, Run: testRun, Timer: "5"},
			headers: map[string]string{hdrTimerStarted: "2025-01-02T03:04:05.000000006Z",
				hdrTimerFireAt: "2025-01-02T03:05:05.000000006Z", hdrTimerName: "wait", "traceparent": "00-task-01",
				"tracestate": "k=v", "Nats-Msg-Id": ""},
			check: func(t *testing.T, c command) {
				if c.timerTrace.Get(hdrTimerName) != "wait" || c.timerTrace.Get("traceparent") != "00-task-01" ||
					c.timerTrace.Get("Cairn-Timer-Id") != "" {
					t.Errorf("timer trace %v", c.timerTrace)
				}
			}}},
	}, {
		name:  "TimerFired: the local fast path is disarmed",
		batch: history.Batch{ev(8, history.TypeTimerFired, &history.TimerFired{ID: 5})},
		want:  []want{{kind: cmdDisarmTimer, timer: &timers.Key{Instance: testID, Run: testRun, Timer: "5"}}},
	}, {
		name:  "TimerCanceled: purge of the schedule subject",
		batch: history.Batch{ev(8, history.TypeTimerCanceled, &history.TimerCanceled{ID: 5})},
		want: []want{{kind: cmdDisarmTimer, timer: &timers.Key{Instance: testID, Run: testRun, Timer: "5"}},
			{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.t5"}},
	}, {
		name:  "ActivityCancelRequested: announcement, purge of its timer and of its delayed retry",
		batch: history.Batch{ev(8, history.TypeActivityCancelRequested, &history.ActivityCancelRequested{ID: 3})},
		state: withCharge,
		want: []want{{kind: cmdAnnounceCancel, subject: "cairn.ns.activity.cancel.order=2F1.r1.3"},
			{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.a3"},
			{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.attempt.order=2F1.r1.3.>"},
			{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.h3.*"},
			{kind: cmdPurge, stream: "cairn-ns-tasks", subject: "cairn.ns.taskdelay.order=2F1.r1.3"}},
	}, {
		name:  "activity closed (completed): purge of its schedule-to-close timer",
		batch: history.Batch{ev(8, history.TypeActivityCompleted, &history.ActivityCompleted{ID: 3, Attempt: 1})},
		state: withCharge,
		want:  []want{{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.a3"}},
	}, {
		name:  "activity closed (failed): purge of its schedule-to-close timer",
		batch: history.Batch{ev(8, history.TypeActivityFailed, &history.ActivityFailed{ID: 3, Attempt: 1})},
		state: withCharge,
		want:  []want{{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.a3"}},
	}, {
		name: "activity closed by an attempt timeout: the attempt is marked closed, its schedule-to-close timer purged",
		batch: history.Batch{ev(8, history.TypeActivityFailed, &history.ActivityFailed{ID: 3, Attempt: 4,
			Failure: (&activities.AttemptTimeout{Attempt: 4, Kind: "start-to-close"}).Failure()})},
		state: withCharge,
		want: []want{{kind: cmdAttemptClosed, subject: "cairn.ns.attempt.order=2F1.r1.3.4",
			headers: map[string]string{"Cairn-Kind": "activity.attempt.closed", "Cairn-Attempt": "4"}},
			{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.a3"}},
	}, {
		name: "attempt timeout of an activity without attempt timer: no mark",
		batch: history.Batch{ev(8, history.TypeActivityFailed, &history.ActivityFailed{ID: 4, Attempt: 1,
			Failure: heartbeatTimeout})},
		state: fakeRun{activities: map[int64]*history.ActivityScheduled{4: {ID: 4, ActivityType: "x"}}},
	}, {
		name:  "activity closed without a schedule-to-close timer: nothing",
		batch: history.Batch{ev(8, history.TypeActivityCompleted, &history.ActivityCompleted{ID: 4})},
		state: fakeRun{activities: map[int64]*history.ActivityScheduled{4: {ID: 4, ActivityType: "x"}}},
	}, {
		name:  "run closed with schedules: retention schedule, purge of this run's timers and delayed retries, summary",
		batch: history.Batch{completed},
		state: fakeRun{schedules: true},
		want:  append(append([]want{retention}, purges...), summary("", completed)),
	}, {
		name:  "run closed without schedules: retention schedule and summary",
		batch: history.Batch{completed},
		want:  []want{retention, summary("", completed)},
	}, {
		name:  "run closed, kept forever: no retention schedule",
		batch: history.Batch{completed},
		cfg:   func(c *commandConfig) { c.retention = KeepForever },
		want:  []want{summary("", completed)},
	}, {
		name:  "run continued as new: start wake of the next run, purges, summary, no retention schedule",
		batch: history.Batch{continued},
		state: fakeRun{schedules: true},
		want: append([]want{{kind: cmdContinueAsNew, subject: testInbox,
			headers: map[string]string{"Nats-Msg-Id": "start/order=2F1/r2", "Cairn-Kind": "start", "Cairn-Run": "r2",
				"Cairn-Expected-Seq": "42"},
			check: func(t *testing.T, c command) {
				b, err := history.DecodeBatch(c.msg.Data)
				if err != nil || len(b) != 2 {
					t.Fatalf("start batch %v, %v", b, err)
				}
				h := fnv.New64a()
				h.Write([]byte("order/1/r2"))
				ws := b[0].Attributes.(*history.WorkflowStarted)
				if ws.Run != "r2" || ws.WorkflowID != testID || ws.WorkflowType != "Order" || ws.TaskQueue != "q" ||
					ws.RandomSeed != h.Sum64() || string(ws.Input) != "2" || !b[0].Time.Equal(t0) {
					t.Errorf("next run's start %+v", ws)
				}
				if s := b[1].Attributes.(*history.SignalReceived); b[1].Seq != 2 || s.ID != "s1" {
					t.Errorf("carried event %+v", b[1])
				}
			}}}, append(purges, summary("", continued))...),
	}, {
		name:  "child run closed: notice to the parent",
		batch: history.Batch{completed},
		run: func(r *runInfo) {
			r.started.Parent = &history.ParentInfo{WorkflowID: "parent/1", Run: "p1", TaskQueue: "pq", ChildID: 7}
		},
		want: []want{{kind: cmdNotifyParent, subject: "cairn.ns.inbox.pq.115.parent=2F1",
			headers: map[string]string{"Nats-Msg-Id": "child/parent=2F1/p1/7", "Cairn-Kind": "child.closed", "Cairn-Run": "p1",
				"Cairn-Child-Id": "7", "Cairn-Child-Run": testRun, "Cairn-Status": "completed"},
			check: func(t *testing.T, c command) {
				if string(c.msg.Data) != `"done"` {
					t.Errorf("result %s", c.msg.Data)
				}
			}}, retention, summary("", completed)},
	}, {
		name:  "parent closed: parent-close policy of its open children",
		batch: history.Batch{completed},
		state: fakeRun{open: []*history.ChildWorkflowScheduled{
			{ID: 1, WorkflowID: "c1", Run: "cr1", TaskQueue: "cq", ParentClosePolicy: history.ParentCloseAbandon},
			{ID: 2, WorkflowID: "c2", Run: "cr2", TaskQueue: "cq", ParentClosePolicy: history.ParentCloseCancel},
			{ID: 3, WorkflowID: "c3", Run: "cr3", TaskQueue: "cq"},
		}},
		want: []want{{kind: cmdCancelChild, subject: "cairn.ns.inbox.cq.32.c2",
			headers: map[string]string{"Nats-Msg-Id": "cancel/c2/cr2", "Cairn-Kind": "cancel", "Cairn-Reason": "parent closed"},
			check: func(t *testing.T, c command) {
				if c.bestEffort {
					t.Error("a parent-close cancel is not best effort")
				}
			}}, {kind: cmdTerminateChild, check: func(t *testing.T, c command) {
			if *c.terminate != (terminateRequest{workflowID: "c3", run: "cr3", reason: "parent closed"}) {
				t.Errorf("terminate %+v", c.terminate)
			}
		}}, retention, summary("", completed)},
	}, {
		name: "ChildWorkflowScheduled: the child's conditional start with the run its parent chose",
		batch: history.Batch{ev(4, history.TypeChildWorkflowScheduled, &history.ChildWorkflowScheduled{ID: 2, WorkflowType: "Ship",
			WorkflowID: "ship/1", Run: "cr1", TaskQueue: "cq", Input: json.RawMessage(`{}`)})},
		run: func(r *runInfo) { r.traceParent = "" },
		want: []want{{kind: cmdStartChild, check: func(t *testing.T, c command) {
			wantReq := store.StartRequest{WorkflowID: "ship/1", WorkflowType: "Ship", TaskQueue: "cq", Input: json.RawMessage(`{}`),
				Run: "cr1", TraceParent: "00-start-01",
				Parent: &history.ParentInfo{WorkflowID: testID, Run: testRun, TaskQueue: "q", ChildID: 2}}
			if !reflect.DeepEqual(*c.start, wantReq) {
				t.Errorf("start %+v, want %+v", *c.start, wantReq)
			}
		}}},
	}, {
		name:  "ChildCancelRequested: cancel message to the child",
		batch: history.Batch{ev(4, history.TypeChildCancelRequested, &history.ChildCancelRequested{ID: 2})},
		state: fakeRun{children: map[int64]*history.ChildWorkflowScheduled{2: {ID: 2, WorkflowID: "ship/1", Run: "cr1", TaskQueue: "cq"}}},
		want: []want{{kind: cmdCancelChild, subject: "cairn.ns.inbox.cq.173.ship=2F1",
			headers: map[string]string{"Nats-Msg-Id": "cancel/ship=2F1/cr1", "Cairn-Run": "cr1", "Cairn-Reason": "parent canceled"},
			check: func(t *testing.T, c command) {
				if !c.bestEffort {
					t.Error("a child cancel is best effort")
				}
			}}},
	}, {
		name: "attributes upserted: summary",
		batch: history.Batch{ev(4, history.TypeStatusSet, &history.StatusSet{Status: json.RawMessage(`"a"`)}),
			ev(5, history.TypeSearchAttributesUpserted, &history.SearchAttributesUpserted{}),
			ev(6, history.TypeStatusSet, &history.StatusSet{Status: json.RawMessage(`"b"`)})},
		want: []want{summary(`"b"`, nil)},
	}, {
		name:  "paused: summary",
		batch: history.Batch{ev(4, history.TypeWorkflowPaused, &history.WorkflowPaused{Reason: "x"})},
		want:  []want{summary("", nil)},
	}, {
		name:  "custom status alone: no command (noteStatus writes it in the background)",
		batch: history.Batch{ev(4, history.TypeStatusSet, &history.StatusSet{Status: json.RawMessage(`"a"`)})},
	}, {
		name: "events in order: every event's commands in the batch's order",
		batch: history.Batch{ev(5, history.TypeTimerFired, &history.TimerFired{ID: 1}),
			ev(6, history.TypeActivityScheduled, &history.ActivityScheduled{ID: 2, ActivityType: "a"}),
			ev(7, history.TypeTimerStarted, &history.TimerStarted{ID: 3, FireAt: t0.Add(time.Hour)})},
		want: []want{{kind: cmdDisarmTimer, timer: &timers.Key{Instance: testID, Run: testRun, Timer: "1"}},
			{kind: cmdActivityTask, subject: "cairn.ns.task.q.a", headers: map[string]string{"Nats-Msg-Id": "ns/order/1/r1/2/1"}},
			{kind: cmdTimer, subject: "cairn.ns.timer.order=2F1.r1.t3", at: t0.Add(time.Hour)}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run, cfg := testRunInfo(tc.state), testConfig()
			if tc.run != nil {
				tc.run(&run)
			}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			checkCommands(t, commandsOf(tc.batch, run, cfg), tc.want)
		})
	}
}

// TestCommandsOfIsPure: deriving the same batch twice gives the same
// commands (re-emitting a batch is always possible).
func TestCommandsOfIsPure(t *testing.T) {
	batch := history.Batch{ev(5, history.TypeActivityScheduled, charge),
		ev(6, history.TypeTimerStarted, &history.TimerStarted{ID: 5, FireAt: t0.Add(time.Minute)}),
		ev(7, history.TypeWorkflowCompleted, &history.WorkflowCompleted{})}
	run := testRunInfo(fakeRun{schedules: true})
	a, b := commandsOf(batch, run, testConfig()), commandsOf(batch, run, testConfig())
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two derivations differ:\n%+v\n%+v", a, b)
	}
}

// TestReemittedClose: a run loaded closed re-emits its close commands
// (always purging its schedules); a run whose last batch does not close it
// re-emits nothing.
func TestReemittedClose(t *testing.T) {
	closed := &entry{id: testID, head: &store.Head{Seq: 42, Run: testRun, WorkflowType: "Order", TaskQueue: "q"},
		started: testStarted(), last: history.Batch{ev(8, history.TypeTimerFired, &history.TimerFired{ID: 1}),
			ev(9, history.TypeWorkflowTerminated, &history.WorkflowTerminated{Reason: "x"})},
		openChildren: []*history.ChildWorkflowScheduled{{ID: 3, WorkflowID: "c3", Run: "cr3", TaskQueue: "cq"}}}
	c, ok := reemittedClose(closed)
	if !ok {
		t.Fatal("closed run: nothing to re-emit")
	}
	checkCommands(t, closeCommandsOf(testConfig(), c), []want{
		{kind: cmdTerminateChild, check: func(t *testing.T, c command) {
			if c.terminate.workflowID != "c3" || c.terminate.run != "cr3" {
				t.Errorf("terminate %+v", c.terminate)
			}
		}},
		{kind: cmdRetention, subject: "cairn.ns.retention.schedule.order=2F1", at: t0.Add(7 * 24 * time.Hour),
			headers: map[string]string{"Nats-Schedule-Target": "cairn.ns.retention.due.order=2F1", "Cairn-Run": testRun}},
		{kind: cmdDisarmTimer, timer: &timers.Key{Instance: testID}},
		{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.r1.>"},
		{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.attempt.order=2F1.r1.>"},
		{kind: cmdPurge, stream: "cairn-ns-tasks", subject: "cairn.ns.taskdelay.order=2F1.r1.>"},
	})

	for name, e := range map[string]*entry{
		"last batch does not close": {id: testID, head: closed.head, started: testStarted(),
			last: history.Batch{ev(8, history.TypeTimerFired, &history.TimerFired{ID: 1})}},
		"no start":   {id: testID, head: closed.head, last: closed.last},
		"no history": {id: testID, head: closed.head, started: testStarted()},
	} {
		if _, ok := reemittedClose(e); ok {
			t.Errorf("%s: close commands re-emitted", name)
		}
	}
}

// TestSchedulePurges: a superseded or closed run purges only its own
// schedules (a newer run of the id may have some).
func TestSchedulePurges(t *testing.T) {
	checkCommands(t, schedulePurges(testNames, testID, "old"), []want{
		{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.timer.order=2F1.old.>"},
		{kind: cmdPurge, stream: "cairn-ns-inbox", subject: "cairn.ns.attempt.order=2F1.old.>"},
		{kind: cmdPurge, stream: "cairn-ns-tasks", subject: "cairn.ns.taskdelay.order=2F1.old.>"},
	})
}

// TestOpenWorkBatch: a reset run dispatches what its history leaves open:
// activities at their due attempt, its timers, its execution timeout.
func TestOpenWorkBatch(t *testing.T) {
	start := ev(1, history.TypeWorkflowStarted, &history.WorkflowStarted{WorkflowID: testID, Run: testRun, TaskQueue: "q",
		ExecutionTimeout: history.Duration(time.Hour)})
	other := &history.ActivityScheduled{ID: 4, ActivityType: "other"}
	batches := []history.Batch{{start,
		ev(2, history.TypeActivityScheduled, charge),
		ev(3, history.TypeActivityScheduled, other),
		ev(4, history.TypeTimerStarted, &history.TimerStarted{ID: 5, FireAt: t0.Add(time.Minute)})},
		{ev(5, history.TypeActivityRetrying, &history.ActivityRetrying{ID: 3, Attempt: 1, NextAttemptAt: t0.Add(time.Second)})}}
	now := t0.Add(time.Millisecond)
	b := openWorkBatch(batches, now)
	var types []history.EventType
	for _, e := range b {
		types = append(types, e.Type)
	}
	wantTypes := []history.EventType{history.TypeWorkflowStarted, history.TypeActivityRetrying, history.TypeActivityScheduled,
		history.TypeTimerStarted}
	if !reflect.DeepEqual(types, wantTypes) || b[0] != start {
		t.Fatalf("open work %v, want %v", types, wantTypes)
	}
	seen := map[history.EventType]*history.Event{}
	for _, e := range b[1:] {
		seen[e.Type] = e
		if !e.Time.Equal(now) {
			t.Errorf("%s at %v, want %v", e.Type, e.Time, now)
		}
	}
	if r, ok := seen[history.TypeActivityRetrying].Attributes.(*history.ActivityRetrying); !ok || r.ID != 3 || r.Attempt != 1 ||
		!r.NextAttemptAt.Equal(t0.Add(time.Second)) {
		t.Errorf("retry %+v", seen[history.TypeActivityRetrying])
	}
	if s := seen[history.TypeActivityScheduled]; s == nil || s.Attributes != other {
		t.Errorf("first attempt %+v", s)
	}
	if tm := seen[history.TypeTimerStarted]; tm == nil || tm.Attributes.(*history.TimerStarted).ID != 5 {
		t.Errorf("timer %+v", tm)
	}
}
