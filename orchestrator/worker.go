package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// Worker runs the workflow tasks of one task queue for the workflow types it
// was given. Several Workers (in one process or many) may serve the same
// queue: they compete for its inbox, and the conditional append keeps every
// instance correct when two of them touch it.
type Worker struct {
	nc        *nats.Conn
	js        jetstream.JetStream
	names     streams.Names
	queue     string
	workflows map[string]executor.WorkflowFunc
	opts      Options
	log       *slog.Logger

	store     store.Backend
	summaries *store.Summaries
	// Each shard owns a cache of the instances it processes: evicting an
	// instance never races with a task running it on another shard.
	caches []*cache
	local  *timers.Local
	// ready is closed once the worker consumes its inbox and answers
	// queries.
	ready     chan struct{}
	readyOnce sync.Once
	// bg runs summary writes off the task path, in order.
	bg    chan func(context.Context)
	inbox jetstream.Stream
	tasks jetstream.Stream
	// timerTraces keeps what the local fast path's timer fires carry for
	// telemetry.
	timerTraces timerTraces
}

// NewWorker returns a Worker for queue in the namespace of names.
func NewWorker(nc *nats.Conn, js jetstream.JetStream, names streams.Names, queue string,
	workflows map[string]executor.WorkflowFunc, opts ...Option) (*Worker, error) {
	if err := streams.ValidateQueue(queue); err != nil {
		return nil, err
	}
	w := &Worker{nc: nc, js: js, names: names, queue: queue, workflows: workflows, ready: make(chan struct{})}
	for _, o := range opts {
		o(&w.opts)
	}
	w.opts.defaults()
	w.log = w.opts.Logger.With("namespace", names.Namespace(), "task_queue", queue)
	w.store = store.New(nc, js, names)
	return w, nil
}

// Ready is closed once the worker consumes its queue's inbox and answers
// queries.
func (w *Worker) Ready() <-chan struct{} { return w.ready }

// CacheLen returns the number of instances held in memory.
func (w *Worker) CacheLen() int {
	n := 0
	for _, c := range w.caches {
		n += c.len()
	}
	return n
}

// Run consumes the queue's inbox until ctx is canceled. Instances in
// flight finish their current task; anything not acknowledged is
// redelivered to another worker.
func (w *Worker) Run(ctx context.Context) error {
	var err error
	if w.inbox, err = w.js.Stream(ctx, w.names.InboxStream()); err != nil {
		return fmt.Errorf("orchestrator: inbox stream: %w", err)
	}
	if w.tasks, err = w.js.Stream(ctx, w.names.TasksStream()); err != nil {
		return fmt.Errorf("orchestrator: tasks stream: %w", err)
	}
	if w.summaries, err = store.NewSummaries(ctx, w.js, w.names); err != nil {
		return err
	}
	cons, err := streams.EnsureOrchestratorConsumer(ctx, w.js, w.names, w.queue, w.opts.AckWait)
	if err != nil {
		return fmt.Errorf("orchestrator: consumer: %w", err)
	}
	stopRetention, err := w.runRetention(ctx)
	if err != nil {
		return err
	}
	defer stopRetention()
	w.local = timers.NewLocal(w.fireLocal)
	defer w.local.Close()
	evict := func(e *entry) {
		w.local.RemoveInstance(e.id)
		w.forgetTimer(timers.Key{Instance: e.id})
		if e.inst != nil {
			e.inst.Close()
		}
	}
	perShard := max(1, w.opts.CacheSize/w.opts.Shards)
	caches := make([]*cache, w.opts.Shards)
	for i := range caches {
		caches[i] = newCache(perShard, evict)
	}
	w.caches = caches
	defer w.observe(func(ctx context.Context) (int64, error) {
		info, err := cons.Info(ctx)
		if err != nil {
			return 0, err
		}
		return int64(info.NumPending) + int64(info.NumAckPending), nil
	})()
	defer func() {
		for _, c := range caches {
			c.clear()
		}
	}()

	w.bg = make(chan func(context.Context), 4096)
	// Summary writes outlive the task context by a little, so a stopping
	// worker still records the runs it closed.
	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		for f := range w.bg {
			f(bgCtx)
		}
	}()
	defer func() {
		close(w.bg)
		select {
		case <-bgDone:
		case <-time.After(5 * time.Second):
			bgCancel()
			<-bgDone
		}
		bgCancel()
	}()

	shards := make([]chan jetstream.Msg, w.opts.Shards)
	queries := make([]chan *queryReq, w.opts.Shards)
	var wg sync.WaitGroup
	for i := range shards {
		shards[i] = make(chan jetstream.Msg, 256)
		queries[i] = make(chan *queryReq, 16)
		wg.Add(1)
		go func(ch chan jetstream.Msg, qch chan *queryReq, c *cache) {
			defer wg.Done()
			w.shard(ctx, ch, qch, c)
		}(shards[i], queries[i], caches[i])
	}
	qsub, err := w.serveQueries(ctx, queries)
	if err != nil {
		return fmt.Errorf("orchestrator: queries: %w", err)
	}
	defer qsub.Unsubscribe()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case shards[w.shardOf(m.Subject())] <- m:
		case <-ctx.Done():
		}
	}, jetstream.PullMaxMessages(1024), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrNoHeartbeat) {
			w.log.Debug("inbox consumer", "error", err)
		}
	}))
	if err != nil {
		return fmt.Errorf("orchestrator: consume: %w", err)
	}
	// Ready promises that queries reach this worker: the query
	// subscription must be on the server, not only in the client.
	fctx, cancelFlush := context.WithTimeout(ctx, 10*time.Second)
	err = w.nc.FlushWithContext(fctx)
	cancelFlush()
	if err != nil && ctx.Err() == nil {
		// The connection reconnects and re-subscribes by itself; queries
		// may miss this worker until then.
		w.log.Warn("query subscription not confirmed by the server", "error", err)
	}
	w.readyOnce.Do(func() { close(w.ready) })
	<-ctx.Done()
	cc.Stop()
	wg.Wait()
	return nil
}

// fireLocal publishes a near-due timer's fire message from this process,
// ahead of the server's schedule (which stays as the backstop).
func (w *Worker) fireLocal(k timers.Key) {
	inbox := w.names.InboxSubject(w.queue, k.Instance)
	e := w.caches[w.shardOf(inbox)].get(k.Instance)
	if e == nil || e.inst == nil || e.inst.Started().Run != k.Run {
		return
	}
	id, _ := strconv.ParseInt(k.Timer, 10, 64)
	m := w.localTimerHeaders(k, store.NewTimerFired(inbox, w.names.InstanceKey(k.Instance), k.Run, id))
	w.forgetTimer(k)
	if _, err := w.js.PublishMsgAsync(m); err != nil {
		w.log.Debug("local timer publish failed; the schedule will fire", "workflow_id", k.Instance, "error", err)
	}
}

// shardOf maps an instance's inbox subject to its shard, so all messages of
// an instance are processed by one goroutine, in order.
func (w *Worker) shardOf(subject string) int {
	h := fnv.New32a()
	h.Write([]byte(subject))
	return int(h.Sum32() % uint32(w.opts.Shards))
}

func (w *Worker) shard(ctx context.Context, ch chan jetstream.Msg, qch chan *queryReq, c *cache) {
	for {
		var first jetstream.Msg
		select {
		case <-ctx.Done():
			return
		case q := <-qch:
			w.query(ctx, c, q)
			continue
		case first = <-ch:
		}
		msgs := []jetstream.Msg{first}
	drain:
		for len(msgs) < 512 {
			select {
			case m := <-ch:
				msgs = append(msgs, m)
			default:
				break drain
			}
		}
		// Group by instance, keeping arrival order within and across
		// instances.
		var order []string
		groups := map[string][]jetstream.Msg{}
		for _, m := range msgs {
			s := m.Subject()
			if _, ok := groups[s]; !ok {
				order = append(order, s)
			}
			groups[s] = append(groups[s], m)
		}
		for _, s := range order {
			_, id, err := w.names.ParseInboxSubject(s)
			if err != nil {
				for _, m := range groups[s] {
					w.log.Warn("inbox message on a malformed subject dropped", "subject", s, "error", err)
					_ = m.Term()
				}
				continue
			}
			w.task(ctx, c, id, groups[s])
		}
	}
}

// task runs one workflow task for instance id over its pending messages.
func (w *Worker) task(ctx context.Context, c *cache, id string, msgs []jetstream.Msg) {
	log := w.log.With("workflow_id", id)
	items := make([]*item, 0, len(msgs))
	redelivered := false
	for _, m := range msgs {
		it, err := parseItem(m)
		if err != nil {
			log.Warn("malformed inbox message dropped", "error", err)
			_ = m.Term()
			continue
		}
		redelivered = redelivered || it.redelivered
		items = append(items, it)
	}
	if len(items) == 0 {
		return
	}
	ctx, tt := w.beginTask(ctx, items)
	defer func() { tt.end(ctx) }()
	retry := func(delay time.Duration) {
		for _, it := range items {
			_ = it.msg.NakWithDelay(delay)
		}
	}

	for _, it := range items {
		if it.kind == kindTerminated || it.kind == kindReset {
			// A client closed the run behind our back: our copy is stale.
			c.remove(id)
		}
	}
	e := c.get(id)
	cold := e == nil
	tt.lookup(cold)
	var fast *item
	if cold {
		// A new run's first task: the start wake holds the whole
		// history, so the conditional append alone tells whether it is
		// current, without reading history back.
		for _, it := range items {
			if it.kind == kindStart {
				if ne := w.fastStart(ctx, c, id, it); ne != nil {
					e, cold, fast = ne, false, it
				}
				break
			}
		}
	}
	if cold {
		var err error
		if e, err = w.load(ctx, c, id); err != nil {
			var nde *executor.NonDeterminismError
			var tpe *executor.TaskPanicError
			if errors.As(err, &nde) || errors.As(err, &tpe) {
				w.park(ctx, id, e, err, items)
				return
			}
			log.Warn("load failed; will retry", "error", err)
			retry(time.Second)
			return
		}
	}
	if e != nil && e.inst != nil && redelivered {
		// Messages come back redelivered when a park, a crash or a failed
		// summary write stopped their task: bring the summary up to date
		// (and learn of a park to clear). Until that works the messages
		// stay unacknowledged, or the write would be lost for good.
		if err := w.summaries.CatchUp(ctx, id, e.head); err != nil {
			log.Warn("catching the summary up failed; will retry", "error", err)
			c.remove(id)
			retry(time.Second)
			return
		}
	}

	// A start wake completes a start whose client may have died between
	// publishing it and appending the start batch.
	for _, it := range items {
		if it.kind != kindStart || it == fast {
			continue
		}
		ne, err := w.completeStart(ctx, c, id, e, it)
		if err != nil {
			log.Warn("start failed; will retry", "run", it.run, "error", err)
			c.remove(id)
			retry(100 * time.Millisecond)
			return
		}
		if ne != e {
			e, cold = ne, false
		}
	}
	if items = w.holdEarlyResets(e, items); len(items) == 0 {
		return
	}
	if e == nil {
		// Nothing to wake: messages for an instance without history.
		ackAll(items)
		return
	}
	if e.inst == nil {
		// The run is closed. A terminate made by a client leaves the
		// close's commands to us; after a crash they may not have gone out.
		terminated := false
		for _, it := range items {
			terminated = terminated || (it.kind == kindTerminated && it.run == e.head.Run)
		}
		if terminated || (cold && (redelivered || recent(e.last, time.Now()))) {
			if err := w.reemitClose(ctx, e); err != nil {
				log.Warn("emitting the commands of a closed run failed; will retry", "error", err)
				retry(time.Second)
				return
			}
		}
		if terminated {
			w.closed(ctx, e)
		}
		ackAll(items)
		c.remove(id)
		return
	}
	run := e.head.Run
	tt.bind(ctx, e.inst.Started())
	if cold && (redelivered || recent(e.last, time.Now())) {
		ctx = tt.start(ctx)
		// The last batch's commands may not have gone out before a crash.
		if err := w.emit(ctx, e, e.last); err != nil {
			log.Warn("re-emitting commands failed; will retry", "run", run, "error", err)
			tt.fail(outcomeError, err)
			c.remove(id)
			retry(time.Second)
			return
		}
	}
	for _, it := range items {
		var err error
		switch {
		case it.kind == kindReset && it.run == run:
			err = w.emitOpen(ctx, e)
		case it.kind == kindTerminated && it.run != run:
			err = w.closeSuperseded(ctx, id, it.run)
		}
		if err != nil {
			log.Warn("dispatching the open work of a reset run or cleaning up the run it replaced failed; will retry", "run", run, "error", err)
			c.remove(id)
			retry(time.Second)
			return
		}
	}
	var inbound []*history.Event
	for _, it := range items {
		if it.ev != nil && it.run == run {
			inbound = append(inbound, it.ev)
		}
	}
	// A task may take several commits: code waiting for its decisions
	// to be committed (AwaitCommitted) runs on in a follow-up execution,
	// and the inbox is acknowledged only after the last of them.
	logged := false
	var writes []func(context.Context) error
	for {
		began := time.Now()
		batch, err := e.inst.Execute(began, inbound)
		taskTime := time.Since(began)
		if err != nil {
			c.remove(id)
			w.park(ctx, id, e, err, items)
			return
		}
		if len(batch) > 0 {
			if ctx = tt.start(ctx); tt != nil && !logged {
				logged = true
				if attrs := tt.logAttrs(); attrs != nil {
					log = log.With(attrs...)
				}
			}
			status := history.StatusRunning
			if ev := e.inst.Closed(); ev != nil {
				status = history.StatusOf(ev)
			}
			s := e.inst.Started()
			data, err := batch.Encode()
			if err == nil && status == history.StatusRunning && e.head.Bytes+int64(len(data)) > w.opts.MaxHistoryBytes {
				err = &HistorySizeError{WorkflowID: id, Run: run, Bytes: e.head.Bytes + int64(len(data)), Limit: w.opts.MaxHistoryBytes}
				c.remove(id)
				w.park(ctx, id, e, err, items)
				return
			}
			if err != nil {
				log.Error("cannot encode the task's events", "run", run, "error", err)
				c.remove(id)
				retry(time.Second)
				return
			}
			head, err := w.store.Append(ctx, store.AppendRequest{WorkflowID: id, Prev: e.head, Run: run, Type: s.WorkflowType,
				Queue: s.TaskQueue, Status: status, Batch: batch, Data: data, TaskTime: taskTime})
			if err != nil {
				// Someone else moved the instance on (or the server is
				// away): forget our copy and redo the task from history.
				if errors.Is(err, store.ErrConflict) {
					log.Debug("commit conflict; task will be redone", "run", run)
				} else {
					log.Warn("commit failed; task will be redone", "run", run, "error", err)
				}
				if errors.Is(err, store.ErrConflict) {
					tt.fail(outcomeConflict, err)
				} else {
					tt.fail(outcomeError, err)
				}
				c.remove(id)
				retry(50 * time.Millisecond)
				return
			}
			e.head, e.last = head, batch
			w.committed(ctx, e, batch)
			w.noteStatus(id, head, e.inst.StartTime(), batch)
			cmds := commandsOf(batch, w.runInfo(ctx, e), w.commandConfig())
			if err := w.sendCommands(ctx, cmds); err != nil {
				log.Warn("emitting commands failed; they will be re-emitted", "run", run, "error", err)
				tt.fail(outcomeError, err)
				c.remove(id)
				retry(time.Second)
				return
			}
			for _, cmd := range cmds {
				if cmd.kind != cmdSummary {
					continue
				}
				if wr := w.summaryWrite(e, cmd.summary); wr != nil {
					writes = append(writes, wr)
				}
			}
		}
		if !e.inst.AwaitingCommit() || e.inst.Closed() != nil {
			break
		}
		inbound = nil
	}
	w.ackAfter(id, items, writes)
	if w.summaries.WasParked(id) {
		w.background(func(ctx context.Context) { w.summaries.Unpark(ctx, id) })
	}
	if e.inst.Closed() != nil {
		w.closed(ctx, e)
		c.remove(id)
	}
}

// newInstance prepares an executor instance with the worker's settings.
func (w *Worker) newInstance(fn executor.WorkflowFunc) *executor.Instance {
	return executor.New(fn, executor.Options{Logger: w.opts.Logger, DeadlockTimeout: w.opts.DeadlockTimeout,
		MaxHistoryEvents: w.opts.MaxHistoryEvents})
}

// recent reports whether a batch is young enough, at now, that re-emitting
// its commands is still de-duplicated by the streams (the duplicate
// window).
func recent(b history.Batch, now time.Time) bool {
	return len(b) > 0 && now.Sub(b[0].Time) < 2*time.Minute
}

// ackAfter acknowledges a task's inbox messages once the summary writes its
// batches need are done, in the background writer so that the shard goes
// on with other instances meanwhile. A failed write hands the messages
// back: their redelivery makes a worker catch the summary up.
func (w *Worker) ackAfter(id string, items []*item, writes []func(context.Context) error) {
	if len(writes) == 0 {
		ackAll(items)
		return
	}
	w.background(func(ctx context.Context) {
		for _, write := range writes {
			if err := write(ctx); err != nil {
				w.log.Warn("summary write failed; the task's messages come back to redo it", "workflow_id", id, "error", err)
				for _, it := range items {
					_ = it.msg.NakWithDelay(time.Second)
				}
				return
			}
		}
		ackAll(items)
	})
}

func ackAll(items []*item) {
	for _, it := range items {
		_ = it.msg.Ack()
	}
}

// load reads an instance's current run and replays it. It returns nil for
// an instance without history.
func (w *Worker) load(ctx context.Context, c *cache, id string) (*entry, error) {
	head, batches, err := w.store.Load(ctx, id)
	if err != nil || head == nil {
		return nil, err
	}
	e := &entry{id: id, head: head}
	if len(batches) > 0 {
		e.last = batches[len(batches)-1]
		e.started, _ = batches[0][0].Attributes.(*history.WorkflowStarted)
	}
	if head.Status != history.StatusRunning {
		e.openChildren = history.OpenItems(batches).Children
		return e, nil
	}
	fn, ok := w.workflows[head.WorkflowType]
	if !ok {
		return nil, fmt.Errorf("workflow type %q is not registered on this worker", head.WorkflowType)
	}
	inst := w.newInstance(fn)
	if err := inst.Replay(batches); err != nil {
		taskTraceOf(ctx).bind(ctx, inst.Started())
		inst.Close()
		return e, err // the head lets the caller describe the parked run
	}
	e.inst = inst
	c.put(e)
	return e, nil
}

// completeStart makes the client's conditional start append if it has not
// happened yet. It returns the entry of the instance afterwards.
func (w *Worker) completeStart(ctx context.Context, c *cache, id string, e *entry, it *item) (*entry, error) {
	if e != nil && e.head.Run == it.run {
		// Already started (by the client's own append, usually).
		w.reportStarted(it.start[0].Attributes.(*history.WorkflowStarted), it.start[0].Time, e.head)
		w.started(ctx, it.start[0].Attributes.(*history.WorkflowStarted))
		return e, nil
	}
	var prev *store.Head
	if e != nil {
		prev = e.head
	}
	if (prev == nil && it.expectedSeq != 0) || (prev != nil && prev.Seq != it.expectedSeq) {
		return e, nil // the client's precondition no longer holds: stale start
	}
	ws := it.start[0].Attributes.(*history.WorkflowStarted)
	head, err := w.store.Append(ctx, store.AppendRequest{WorkflowID: id, Prev: prev, NewRun: prev != nil, Run: it.run,
		Type: ws.WorkflowType, Queue: ws.TaskQueue, Status: history.StatusRunning, Batch: it.start})
	if errors.Is(err, store.ErrConflict) {
		// Usually the client's own append landed first. If the run is
		// ours, its start commands still have to go out.
		c.remove(id)
		ne, err := w.load(ctx, c, id)
		if err != nil || ne == nil || ne.inst == nil || ne.head.Run != it.run {
			return ne, err
		}
		if err := w.emit(ctx, ne, it.start); err != nil {
			return nil, err
		}
		w.reportStarted(it.start[0].Attributes.(*history.WorkflowStarted), it.start[0].Time, ne.head)
		w.started(ctx, it.start[0].Attributes.(*history.WorkflowStarted))
		return ne, nil
	}
	if err != nil {
		return nil, err
	}
	fn, ok := w.workflows[ws.WorkflowType]
	if !ok {
		return nil, fmt.Errorf("workflow type %q is not registered on this worker", ws.WorkflowType)
	}
	inst := w.newInstance(fn)
	if err := inst.Replay([]history.Batch{it.start}); err != nil {
		inst.Close()
		return nil, err
	}
	ne := &entry{id: id, head: head, inst: inst, last: it.start}
	c.put(ne)
	// The start batch's commands (its execution timeout) go out with the
	// run's first task.
	if err := w.emit(ctx, ne, it.start); err != nil {
		return nil, err
	}
	w.reportStarted(ws, it.start[0].Time, head)
	w.started(ctx, ws)
	return ne, nil
}

// fastStart makes the start wake's conditional append (a duplicate of the
// client's, usually) and, if the run it starts is the instance's current
// one, returns it built from the wake. It returns nil when history must be
// read instead.
func (w *Worker) fastStart(ctx context.Context, c *cache, id string, it *item) *entry {
	ws := it.start[0].Attributes.(*history.WorkflowStarted)
	fn, ok := w.workflows[ws.WorkflowType]
	if !ok {
		return nil
	}
	var prev *store.Head
	if it.expectedSeq != 0 {
		prev = &store.Head{Seq: it.expectedSeq}
	}
	head, err := w.store.Append(ctx, store.AppendRequest{WorkflowID: id, Prev: prev, NewRun: prev != nil, Run: it.run,
		Type: ws.WorkflowType, Queue: ws.TaskQueue, Status: history.StatusRunning, Batch: it.start})
	if errors.Is(err, store.ErrConflict) {
		// The expected-sequence check comes before de-duplication, so
		// the client's own append of this very batch shows as a
		// conflict: the head tells.
		head, err = w.store.Head(ctx, id)
		if err != nil || head == nil || head.Run != it.run || head.LastEvent != it.start[len(it.start)-1].Seq {
			return nil
		}
	} else if err != nil {
		return nil
	}
	inst := w.newInstance(fn)
	if err := inst.Replay([]history.Batch{it.start}); err != nil {
		inst.Close()
		return nil
	}
	e := &entry{id: id, head: head, inst: inst, last: it.start}
	if err := w.emit(ctx, e, it.start); err != nil {
		inst.Close()
		return nil
	}
	c.put(e)
	w.reportStarted(ws, it.start[0].Time, head)
	w.started(ctx, ws)
	return e
}

// park stops an instance whose code cannot run its history: history stays
// as it is, the error goes to the summary (describe shows it), and the
// messages come back later, when fixed code may be running.
func (w *Worker) park(ctx context.Context, id string, e *entry, err error, items []*item) {
	taskTraceOf(ctx).fail(outcomeParked, err)
	w.log.Error("instance parked", append([]any{"workflow_id", id, "error", err}, taskTraceOf(ctx).logAttrs()...)...)
	var head *store.Head
	if e != nil {
		head = e.head
	}
	w.summaries.Park(ctx, id, head, history.FailureOf(err))
	for _, it := range items {
		_ = it.msg.NakWithDelay(w.opts.ParkRetry)
	}
}

// closed ends the worker's business with a closed run: its trace and the
// lifecycle report. The summary is already written: by the closing task
// (summarize), or for a client's terminate by the client and, after a
// crash, by reemitClose.
func (w *Worker) closed(ctx context.Context, e *entry) {
	w.traceClosed(ctx, e)
	id, head, last := e.id, e.head, e.last
	w.summaries.ForgetParked(id)
	traceParent := ""
	if e.inst != nil {
		traceParent = e.inst.Started().TraceParent
	}
	w.reportClosed(id, head, last, traceParent)
}

// background queues f for the summary writer; when the queue is full the
// caller writes itself, which slows tasks down rather than losing writes.
func (w *Worker) background(f func(context.Context)) {
	select {
	case w.bg <- f:
	default:
		f(context.Background())
	}
}
