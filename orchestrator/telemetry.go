package orchestrator

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/telemetry"
	"github.com/cairnhq/cairn/timers"
)

// WithTelemetry turns on traces and metrics (see package telemetry). Without
// it the worker emits neither and pays nothing for them.
func WithTelemetry(t *telemetry.Telemetry) Option { return func(o *Options) { o.Telemetry = t } }

// Headers of a timer's fire message that let the worker recording the fire
// emit the timer's span and lateness, whichever process started the timer.
const (
	hdrTimerStarted = "Cairn-Timer-Started"
	hdrTimerFireAt  = "Cairn-Timer-Fire-At"
	hdrTimerName    = "Cairn-Timer-Name"
)

// Task outcomes (cairn.task.outcome).
const (
	outcomeCommitted = "committed"
	outcomeEmpty     = "empty"
	outcomeConflict  = "conflict"
	outcomeParked    = "parked"
	outcomeError     = "error"
)

type taskTraceKey struct{}

// taskTrace follows one workflow task for telemetry. The task's span is a
// child of its run's execution span, backdated to when the task began. It
// is only started when the task does something: commits a batch, re-emits
// commands or fails. A task that finds nothing to do (a duplicate timer
// fire, a stale message) has no span, only its duration metric.
type taskTrace struct {
	w      *Worker
	begin  time.Time
	items  []*item
	ws     *history.WorkflowStarted
	base   context.Context
	span   trace.Span
	cold   bool
	looked bool
	// outcome is cairn.task.outcome.
	outcome string
}

// beginTask starts following a task; ctx then carries it, for load and park.
func (w *Worker) beginTask(ctx context.Context, items []*item) (context.Context, *taskTrace) {
	if w.opts.Telemetry == nil {
		return ctx, nil
	}
	tt := &taskTrace{w: w, begin: time.Now(), items: items, outcome: outcomeEmpty}
	return context.WithValue(ctx, taskTraceKey{}, tt), tt
}

func taskTraceOf(ctx context.Context) *taskTrace {
	tt, _ := ctx.Value(taskTraceKey{}).(*taskTrace)
	return tt
}

// lookup records whether the instance was in the sticky cache.
func (tt *taskTrace) lookup(cold bool) {
	if tt != nil {
		tt.cold, tt.looked = cold, true
	}
}

// bind tells the task's run.
func (tt *taskTrace) bind(ctx context.Context, ws *history.WorkflowStarted) {
	if tt != nil && ws != nil && tt.ws == nil {
		tt.ws, tt.base = ws, ctx
	}
}

// start starts the task's span (once) and returns ctx carrying it: the
// commands the task emits name it as their parent.
func (tt *taskTrace) start(ctx context.Context) context.Context {
	if tt == nil || tt.ws == nil {
		return ctx
	}
	if tt.span == nil {
		var links []trace.Link
		for _, it := range tt.items {
			h := it.msg.Headers()
			if l, ok := telemetry.LinkTo(h.Get(telemetry.HeaderTraceParent), h.Get(telemetry.HeaderTraceState)); ok {
				links = append(links, l)
			}
		}
		w, ws := tt.w, tt.ws
		_, tt.span = w.opts.Telemetry.StartWorkflowTask(tt.base, w.names.Namespace(), ws,
			w.names.InboxSubject(ws.TaskQueue, ws.WorkflowID), tt.begin, links)
	}
	return trace.ContextWithSpan(ctx, tt.span)
}

// logAttrs are the run and span ids for the task's log lines.
func (tt *taskTrace) logAttrs() []any {
	if tt == nil || tt.span == nil || !tt.span.IsRecording() {
		return nil
	}
	sc := tt.span.SpanContext()
	return []any{"run", tt.ws.Run, telemetry.LogTraceID, sc.TraceID().String(), telemetry.LogSpanID, sc.SpanID().String()}
}

// fail records why the task did not commit.
func (tt *taskTrace) fail(outcome string, err error) {
	if tt == nil {
		return
	}
	tt.outcome = outcome
	tt.start(context.Background())
	if tt.span == nil || !tt.span.IsRecording() {
		return
	}
	typ := outcome
	msg := outcome
	if err != nil {
		msg = err.Error()
		var nde *executor.NonDeterminismError
		var tpe *executor.TaskPanicError
		switch {
		case errors.As(err, &nde), errors.As(err, &tpe):
			typ = history.FailureOf(err).Type
		case errors.Is(err, store.ErrConflict):
			typ = "cairn.Conflict"
		}
	}
	telemetry.RecordFailure(tt.span, typ, msg)
	tt.span.SetAttributes(telemetry.AttrTaskOutcome.String(outcome))
}

// end closes the task's span and records its duration.
func (tt *taskTrace) end(ctx context.Context) {
	if tt == nil {
		return
	}
	tel := tt.w.opts.Telemetry
	typ, queue := "", tt.w.queue
	if tt.ws != nil {
		typ = tt.ws.WorkflowType
	}
	if tt.looked {
		tel.CacheLookup(ctx, queue, !tt.cold)
	}
	tel.WorkflowTask(ctx, typ, queue, tt.outcome, time.Since(tt.begin))
	if tt.span != nil {
		tt.span.SetAttributes(telemetry.AttrTaskOutcome.String(tt.outcome))
		tt.span.End()
	}
}

// committed is called once a task's batch is in history: only then are the
// spans of what it recorded (fired timers, external events) emitted, so
// each is emitted exactly once, by the process whose append won.
func (w *Worker) committed(ctx context.Context, e *entry, batch history.Batch) {
	tt := taskTraceOf(ctx)
	if tt == nil || len(batch) == 0 {
		return
	}
	tt.outcome = outcomeCommitted
	recording := tt.span != nil && tt.span.IsRecording()
	if recording {
		tt.span.SetAttributes(telemetry.AttrEventSeq.Int64(batch[0].Seq), telemetry.AttrEventCount.Int(len(batch)))
	}
	ws := e.inst.Started()
	tel := w.opts.Telemetry
	for _, ev := range batch {
		switch a := ev.Attributes.(type) {
		case *history.TimerFired:
			tm := telemetry.Timer{ID: a.ID, Seq: ev.Seq, Fired: ev.Time}
			if it := tt.timerItem(a.ID); it != nil {
				h := it.msg.Headers()
				tm.Name = h.Get(hdrTimerName)
				tm.TraceParent = h.Get(telemetry.HeaderTraceParent)
				tm.Started, _ = time.Parse(time.RFC3339Nano, h.Get(hdrTimerStarted))
				tm.FireAt, _ = time.Parse(time.RFC3339Nano, h.Get(hdrTimerFireAt))
			}
			if !tm.FireAt.IsZero() {
				tel.TimerLateness(ctx, ws.WorkflowType, ws.TaskQueue, tt.begin.Sub(tm.FireAt))
			}
			if recording && !tm.Started.IsZero() {
				tel.EmitTimer(ctx, w.names.Namespace(), ws, tm)
			}
		case *history.SignalReceived:
			if recording {
				var links []trace.Link
				if it := tt.signalItem(a.ID); it != nil {
					h := it.msg.Headers()
					if l, ok := telemetry.LinkTo(h.Get(telemetry.HeaderTraceParent), h.Get(telemetry.HeaderTraceState)); ok {
						links = append(links, l)
					}
				}
				tel.EmitSignal(ctx, a.Name, ev.Seq, tt.begin, links)
			}
		case *history.CallbackCompleted, *history.CallbackFailed, *history.CallbackHeartbeat:
			if recording {
				id, outcome := callbackOf(ev)
				var links []trace.Link
				if it := tt.callbackItem(id); it != nil {
					h := it.msg.Headers()
					if l, ok := telemetry.LinkTo(h.Get(telemetry.HeaderTraceParent), h.Get(telemetry.HeaderTraceState)); ok {
						links = append(links, l)
					}
				}
				name := strconv.FormatInt(id, 10)
				if e.inst != nil {
					name = e.inst.CallbackName(id)
				}
				tel.EmitCallback(ctx, name, outcome, ev.Seq, tt.begin, links)
			}
		}
	}
}

// timerItem is the inbox message that carried the fire of timer id.
func (tt *taskTrace) timerItem(id int64) *item {
	want := strconv.FormatInt(id, 10)
	var found *item
	for _, it := range tt.items {
		if it.kind != kindTimerFired || it.msg.Headers().Get(hdrTimerID) != want {
			continue
		}
		if found == nil || (found.msg.Headers().Get(hdrTimerStarted) == "" && it.msg.Headers().Get(hdrTimerStarted) != "") {
			found = it
		}
	}
	return found
}

// callbackItem is the inbox message that carried a callback's outcome.
func (tt *taskTrace) callbackItem(id int64) *item {
	want := strconv.FormatInt(id, 10)
	for _, it := range tt.items {
		if it.kind == kindCallback && it.msg.Headers().Get(hdrCallbackID) == want {
			return it
		}
	}
	return nil
}

func callbackOf(ev *history.Event) (int64, string) {
	switch a := ev.Attributes.(type) {
	case *history.CallbackCompleted:
		return a.ID, "completed"
	case *history.CallbackFailed:
		return a.ID, "failed"
	case *history.CallbackHeartbeat:
		return a.ID, "heartbeat"
	}
	return 0, ""
}

// signalItem is the inbox message that carried the external event id.
func (tt *taskTrace) signalItem(id string) *item {
	for _, it := range tt.items {
		if it.msg.Headers().Get(hdrSignalID) == id {
			return it
		}
	}
	return nil
}

// started counts a run the worker saw started.
func (w *Worker) started(ctx context.Context, ws *history.WorkflowStarted) {
	w.opts.Telemetry.WorkflowStarted(ctx, ws.WorkflowType, ws.TaskQueue)
}

// traceClosed emits the execution span of a run this worker closed (or
// cleaned up after a terminate) and counts the close.
func (w *Worker) traceClosed(ctx context.Context, e *entry) {
	tel := w.opts.Telemetry
	if tel == nil {
		return
	}
	var closeEv *history.Event
	for _, ev := range e.last {
		if ev.IsClose() {
			closeEv = ev
		}
	}
	if closeEv == nil {
		return
	}
	tel.WorkflowClosed(ctx, e.head.WorkflowType, e.head.TaskQueue, string(history.StatusOf(closeEv)))
	if e.inst != nil {
		tel.EmitExecution(ctx, w.names.Namespace(), e.inst.Started(), e.inst.StartTime(), closeEv)
		return
	}
	// Closed behind the worker's back (terminate): the start event is the
	// run's first history message.
	ws, start, err := w.startEvent(ctx, e)
	if err != nil {
		w.log.Debug("execution span not emitted: start event unreadable", "workflow_id", e.id, "run", e.head.Run, "error", err)
		return
	}
	tel.EmitExecution(ctx, w.names.Namespace(), ws, start, closeEv)
}

func (w *Worker) startEvent(ctx context.Context, e *entry) (*history.WorkflowStarted, time.Time, error) {
	s, err := w.js.Stream(ctx, w.names.HistoryStream())
	if err != nil {
		return nil, time.Time{}, err
	}
	m, err := s.GetMsg(ctx, e.head.RunStart)
	if err != nil {
		return nil, time.Time{}, err
	}
	bs, err := history.DecodeBatches(m.Data)
	if err != nil {
		return nil, time.Time{}, err
	}
	b := bs[0]
	if len(b) == 0 || b[0].Type != history.TypeWorkflowStarted {
		return nil, time.Time{}, errors.New("first message of the run does not start it")
	}
	ws := b[0].Attributes.(*history.WorkflowStarted)
	if ws.Run != e.head.Run {
		return nil, time.Time{}, errors.New("first message of the run belongs to another run")
	}
	return ws, b[0].Time, nil
}

// timerTraces remembers, for the timers this process fires itself, what the
// durable schedule's fire message carries in its headers.
type timerTraces struct {
	mu sync.Mutex
	m  map[string]map[timers.Key]nats.Header
}

// timerTraceHeaders adds the timer's start, due time, name and (when the
// task's span is recording) the starting task's trace context to its fire
// message headers h. For a timer the local fast path fires (local), it
// returns those headers, for rememberTimer; nil otherwise.
func timerTraceHeaders(h nats.Header, ev *history.Event, a *history.TimerStarted, traceParent, traceState string,
	recording, local bool) nats.Header {
	h.Set(hdrTimerStarted, ev.Time.UTC().Format(time.RFC3339Nano))
	h.Set(hdrTimerFireAt, a.FireAt.UTC().Format(time.RFC3339Nano))
	if a.Name != "" && !strings.ContainsAny(a.Name, "\r\n") {
		h.Set(hdrTimerName, a.Name)
	}
	if traceParent != "" && recording {
		h.Set(telemetry.HeaderTraceParent, traceParent)
		if traceState != "" {
			h.Set(telemetry.HeaderTraceState, traceState)
		}
	}
	if !local {
		return nil
	}
	keep := nats.Header{}
	for _, k := range []string{hdrTimerStarted, hdrTimerFireAt, hdrTimerName, telemetry.HeaderTraceParent, telemetry.HeaderTraceState} {
		if v := h.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	return keep
}

// rememberTimer keeps what a timer's durable fire message carries for the
// local fast path's fire of it (localTimerHeaders).
func (w *Worker) rememberTimer(k timers.Key, keep nats.Header) {
	w.timerTraces.mu.Lock()
	defer w.timerTraces.mu.Unlock()
	if w.timerTraces.m == nil {
		w.timerTraces.m = map[string]map[timers.Key]nats.Header{}
	}
	byKey := w.timerTraces.m[k.Instance]
	if byKey == nil {
		byKey = map[timers.Key]nats.Header{}
		w.timerTraces.m[k.Instance] = byKey
	}
	byKey[k] = keep
}

// localTimerHeaders moves the remembered headers of a timer onto the fire
// message the fast path publishes.
func (w *Worker) localTimerHeaders(k timers.Key, m *nats.Msg) *nats.Msg {
	if w.opts.Telemetry == nil {
		return m
	}
	w.timerTraces.mu.Lock()
	h := w.timerTraces.m[k.Instance][k]
	w.timerTraces.mu.Unlock()
	for key, v := range h {
		m.Header[key] = v
	}
	return m
}

// forgetTimer drops what rememberTimer kept for one timer (k.Timer
// set) or for every timer of an instance.
func (w *Worker) forgetTimer(k timers.Key) {
	if w.opts.Telemetry == nil {
		return
	}
	w.timerTraces.mu.Lock()
	defer w.timerTraces.mu.Unlock()
	if k.Timer == "" {
		delete(w.timerTraces.m, k.Instance)
		return
	}
	if byKey := w.timerTraces.m[k.Instance]; byKey != nil {
		delete(byKey, k)
		if len(byKey) == 0 {
			delete(w.timerTraces.m, k.Instance)
		}
	}
}

// observe registers the worker's gauges (cache size, inbox backlog) until
// the returned function is called.
func (w *Worker) observe(backlog func(context.Context) (int64, error)) func() {
	tel := w.opts.Telemetry
	if tel == nil {
		return func() {}
	}
	a := tel.ObserveCacheSize(w.queue, w.CacheLen)
	b := tel.ObserveInboxBacklog(w.queue, backlog)
	return func() { a(); b() }
}
