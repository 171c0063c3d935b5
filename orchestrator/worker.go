package orchestrator

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// Worker runs the workflow tasks of one task queue for the workflow types it
// was given. Several Workers (in one process or many) may serve the same
// queue: its inbox is split into partitions that the workers own, one at a
// time each (partitions.go), and the conditional append together with
// never dropping what a copy cannot place (stale.go) keeps every instance
// correct when two of them touch it during a handover. Every worker of a
// queue must serve the same workflow types.
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
	// tokens signs the activity attempts the worker dispatches and checks
	// the outcomes reported for them (tokens.go).
	tokens attemptTokens
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
	// parts is the worker's side of the queue's partition ownership.
	parts *partitions
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
// flight finish their current task; anything not acknowledged is handed
// back to the server for the partitions' next owners.
func (w *Worker) Run(ctx context.Context) error {
	cons, err := w.open(ctx)
	if err != nil {
		return err
	}
	defer w.runStraySweeper(ctx)()
	stopRetention, err := w.runRetention(ctx)
	if err != nil {
		return err
	}
	defer stopRetention()
	w.local = timers.NewLocal(w.fireLocal)
	defer w.local.Close()
	w.caches = w.newCaches()
	defer func() {
		for _, c := range w.caches {
			c.clear()
		}
	}()
	defer w.runSummaryWriter(ctx)()

	held := newHolder()
	shards, queries, waitShards := w.startShards(ctx)
	w.parts = newPartitions(w, cons, func(_ int, m jetstream.Msg) {
		hm := held.hold(m)
		select {
		case shards[w.shardOf(w.names.InboxInstanceSubject(m.Subject()))] <- hm:
		case <-ctx.Done():
			// Stopping: back to the server at once, for the partition's
			// next owner.
			_ = hm.Nak()
		}
	})
	defer w.observe(w.parts.backlog)()
	qsub, err := w.serveQueries(ctx, queries)
	if err != nil {
		return fmt.Errorf("orchestrator: queries: %w", err)
	}
	defer qsub.Unsubscribe()
	partsDone, err := w.pullPartitions(ctx)
	if err != nil {
		return err
	}
	go held.run(ctx, w.opts.AckWait)
	w.confirmSubscriptions(ctx)
	w.readyOnce.Do(func() { close(w.ready) })
	<-ctx.Done()
	<-partsDone
	waitShards()
	held.handBack()
	return nil
}

// open finds the namespace's streams and summaries and makes the queue's
// workflow task consumers.
func (w *Worker) open(ctx context.Context) ([]jetstream.Consumer, error) {
	var err error
	if w.inbox, err = w.js.Stream(ctx, w.names.InboxStream()); err != nil {
		return nil, fmt.Errorf("orchestrator: inbox stream: %w", err)
	}
	if w.tasks, err = w.js.Stream(ctx, w.names.TasksStream()); err != nil {
		return nil, fmt.Errorf("orchestrator: tasks stream: %w", err)
	}
	if w.summaries, err = store.NewSummaries(ctx, w.js, w.names); err != nil {
		return nil, err
	}
	key, err := streams.AttemptTokenKey(ctx, w.js, w.names)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	w.tokens = attemptTokens{ns: w.names.Namespace(), key: key}
	cons, err := streams.EnsureOrchestratorConsumers(ctx, w.js, w.names, w.queue, w.opts.Partitions, w.opts.AckWait)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: consumers: %w", err)
	}
	return cons, nil
}

// newCaches makes one cache per shard; a copy is stamped with its
// partition's epoch as it is cached (partitions.go).
func (w *Worker) newCaches() []*cache {
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
		caches[i].stamp = func(e *entry) { e.epoch = w.parts.epoch(e.id) }
	}
	return caches
}

// runSummaryWriter runs the background summary writes (w.bg) and returns
// the function that stops it. Writes outlive the task context by a little,
// so a stopping worker still records the runs it closed.
func (w *Worker) runSummaryWriter(ctx context.Context) (stop func()) {
	w.bg = make(chan func(context.Context), 4096)
	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		for f := range w.bg {
			f(bgCtx)
		}
	}()
	return func() {
		close(w.bg)
		select {
		case <-bgDone:
		case <-time.After(5 * time.Second):
			bgCancel()
			<-bgDone
		}
		bgCancel()
	}
}

// startShards starts the shard goroutines, each with its inbox and query
// channels and its cache; wait returns once they have stopped (ctx ended).
func (w *Worker) startShards(ctx context.Context) (shards []chan jetstream.Msg, queries []chan *queryReq, wait func()) {
	shards = make([]chan jetstream.Msg, w.opts.Shards)
	queries = make([]chan *queryReq, w.opts.Shards)
	var wg sync.WaitGroup
	for i := range shards {
		shards[i] = make(chan jetstream.Msg, 256)
		queries[i] = make(chan *queryReq, 16)
		wg.Add(1)
		go func(ch chan jetstream.Msg, qch chan *queryReq, c *cache) {
			defer wg.Done()
			w.shard(ctx, ch, qch, c)
		}(shards[i], queries[i], w.caches[i])
	}
	return shards, queries, wg.Wait
}

// pullPartitions joins the queue's members and pulls the partitions this
// worker owns, from here on until ctx ends; done is closed once it has
// left and released them.
func (w *Worker) pullPartitions(ctx context.Context) (done <-chan error, err error) {
	partsDone := make(chan error, 1)
	pulling := make(chan struct{})
	go func() { partsDone <- w.parts.run(ctx, func() { close(pulling) }) }()
	select {
	case <-pulling:
		return partsDone, nil
	case err := <-partsDone:
		return nil, fmt.Errorf("orchestrator: partitions: %w", err)
	}
}

// confirmSubscriptions waits until the server has the worker's
// subscriptions: Ready promises that queries reach this worker.
func (w *Worker) confirmSubscriptions(ctx context.Context) {
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.nc.FlushWithContext(fctx); err != nil && ctx.Err() == nil {
		// The connection reconnects and re-subscribes by itself; queries
		// may miss this worker until then.
		w.log.Warn("query subscription not confirmed by the server", "error", err)
	}
}

// fireLocal publishes a near-due timer's fire message from this process,
// ahead of the server's schedule (which stays as the backstop).
func (w *Worker) fireLocal(k timers.Key) {
	inbox := w.names.InboxSubject(w.queue, k.Instance)
	e := w.caches[w.shardOf(inbox)].get(k.Instance)
	if e == nil || !w.fresh(e) || e.inst == nil || e.inst.Started().Run != k.Run {
		return
	}
	id, _ := strconv.ParseInt(k.Timer, 10, 64)
	m := w.localTimerHeaders(k, store.NewTimerFired(inbox, w.names.InstanceKey(k.Instance), k.Run, id))
	m.Header.Set(store.HeaderTimerToken, w.tokens.timer(k.Instance, k.Run, userTimerName(id)))
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
			// One group per instance, whoever sent the message (the
			// subject's sender token).
			s := w.names.InboxInstanceSubject(m.Subject())
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
					w.deadLetter(ctx, m, err.Error())
				}
				continue
			}
			w.task(ctx, c, id, groups[s])
		}
	}
}

// closed ends the worker's business with a closed run: its trace and the
// lifecycle report. The summary is already written: by the closing task
// (summaryWrite), or for a client's terminate by the client and, after a
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
