package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
)

// Handler executes one activity attempt. It returns the JSON result payload
// or an error; history.FailureOf decides how the error is serialized, so
// errors from sdk/failure keep their type and retry flags.
//
// ctx is canceled when the attempt times out (start-to-close,
// schedule-to-close, heartbeat) or the Runner shuts down; a handler must
// return promptly then, because its concurrency slot stays taken until it
// does. t must not be retained after the handler returns.
type Handler func(ctx context.Context, t *Task) ([]byte, error)

// ErrAlreadyRunning is returned by Run when the Runner is already running.
var ErrAlreadyRunning = errors.New("activities: runner is already running")

// errShutdown is the cancellation cause of handler contexts when the
// shutdown grace period ends.
var errShutdown = errors.New("activities: runner shut down")

const (
	// fetchWait bounds one pull request. Short enough that a request lost
	// in a server restart is re-issued quickly, long enough that an idle
	// runner costs next to nothing.
	fetchWait = 5 * time.Second
	// maxFetchBatch caps one pull request, so a very high concurrency does
	// not turn into one huge request.
	maxFetchBatch = 256
	// unsupportedDelay is how long a task of an unknown protocol version is
	// set aside before it is offered again, hopefully to a newer worker;
	// after unsupportedDeliveries offers (an hour) it is a dead letter.
	unsupportedDelay      = 30 * time.Second
	unsupportedDeliveries = 120
)

// Runner serves one activity type on one task queue: it pulls task messages
// from the type's durable consumer, runs the Handler on them with bounded
// concurrency, publishes each result to the task's reply subject and then
// acks the task. Any number of Runners, in any number of processes, may
// serve the same type: they compete for tasks on the shared consumer.
//
// A Runner rides out NATS server restarts: publishing results and acking are
// retried until they succeed, and fetching resumes once the connection is
// back. The connection should therefore reconnect forever (streams.Connect
// does).
type Runner struct {
	js           jetstream.JetStream
	names        streams.Names
	queue        string
	activityType string
	handler      Handler
	opts         runnerOptions
	log          *slog.Logger

	running atomic.Bool
	// ackWait is the consumer's effective AckWait, which paces automatic
	// heartbeats. Another Runner may have configured the consumer
	// differently, so it is read back from the server.
	ackWait atomic.Int64
	// inbox is the stream of the attempt timers (closedByEngine), looked
	// up on first use.
	inboxMu sync.Mutex
	inbox   jetstream.Stream
}

// NewRunner returns a Runner for activityType on queue in the namespace of
// names. Nothing happens until Run is called.
func NewRunner(js jetstream.JetStream, names streams.Names, queue, activityType string, h Handler, opts ...RunnerOption) *Runner {
	o := defaultRunnerOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	r := &Runner{
		js:           js,
		names:        names,
		queue:        queue,
		activityType: activityType,
		handler:      h,
		opts:         o,
		log: o.logger.With(
			slog.String("namespace", names.Namespace()),
			slog.String("queue", queue),
			slog.String("activity_type", activityType)),
	}
	r.ackWait.Store(int64(o.ackWait))
	return r
}

// Run creates or updates the consumer and serves tasks until ctx is
// canceled, then stops fetching and waits for in-flight tasks for the
// shutdown grace period. Tasks still running after it are handed back to
// JetStream for another worker, and Run returns.
//
// Run returns nil after a shutdown caused by ctx, and an error if it cannot
// start (invalid configuration) or the connection is closed for good.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.validate(); err != nil {
		return err
	}
	if !r.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer r.running.Store(false)

	cons, err := r.ensureConsumer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer r.opts.telemetry.ObserveTaskBacklog(r.queue, r.activityType, func(ctx context.Context) (int64, error) {
		info, err := cons.Info(ctx)
		if err != nil {
			return 0, err
		}
		return int64(info.NumPending) + int64(info.NumAckPending), nil
	})()

	// Handlers and result reporting outlive ctx by the grace period, so
	// they run under a context of their own that keeps ctx's values.
	hard, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stop(errShutdown)

	// The watcher must stop when Run returns, also if ctx is still live.
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	pulls := r.watchConnection(watchCtx)

	var wg sync.WaitGroup
	// A token in slots is a running handler (or a task being prepared).
	slots := make(chan struct{}, r.opts.concurrency)
	loopErr := r.fetchLoop(ctx, hard, pulls, cons, slots, &wg)

	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	grace := time.NewTimer(r.opts.grace)
	defer grace.Stop()
	select {
	case <-drained:
	case <-grace.C:
		r.log.Warn("shutdown grace period elapsed; handing in-flight tasks back", slog.Duration("grace", r.opts.grace))
		stop(errShutdown)
		<-drained
	}
	return loopErr
}

func (r *Runner) validate() error {
	switch {
	case r.handler == nil:
		return fmt.Errorf("activities: runner for %q: nil handler", r.activityType)
	case r.activityType == "":
		return errors.New("activities: runner: empty activity type")
	case r.js == nil:
		return fmt.Errorf("activities: runner for %q: nil JetStream", r.activityType)
	}
	if err := streams.ValidateQueue(r.queue); err != nil {
		return fmt.Errorf("activities: runner for %q: %w", r.activityType, err)
	}
	return nil
}

// ensureConsumer retries until the consumer exists: at startup the server
// may still be coming up, or the engine may not have provisioned the
// streams yet.
func (r *Runner) ensureConsumer(ctx context.Context) (jetstream.Consumer, error) {
	bo := newBackoff(100*time.Millisecond, 5*time.Second)
	for {
		cons, err := streams.EnsureActivityConsumer(ctx, r.js, r.names, r.queue, r.activityType, r.opts.ackWait)
		if err == nil {
			if info := cons.CachedInfo(); info != nil && info.Config.AckWait > 0 {
				r.ackWait.Store(int64(info.Config.AckWait))
			}
			return cons, nil
		}
		if errors.Is(err, streams.ErrInvalidName) || errors.Is(err, nats.ErrConnectionClosed) {
			return nil, fmt.Errorf("activities: runner for %q: %w", r.activityType, err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.log.Warn("cannot ensure activity consumer; retrying", slog.Any("error", err))
		if !sleep(ctx, bo.next()) {
			return nil, ctx.Err()
		}
	}
}

// fetchLoop pulls exactly as many tasks as there are free slots, so no task
// waits in a client-side buffer while its AckWait runs out; tasks this
// runner cannot start stay on the server for other workers.
func (r *Runner) fetchLoop(ctx, hard context.Context, pulls *pullInterrupter, cons jetstream.Consumer, slots chan struct{}, wg *sync.WaitGroup) error {
	bo := newBackoff(50*time.Millisecond, 2*time.Second)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		n := 1
	fill:
		for n < min(r.opts.concurrency, maxFetchBatch) {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break fill
			}
		}

		received, err := r.fetch(ctx, hard, pulls, cons, n, slots, wg)
		for range n - received {
			<-slots
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case r.js.Conn().IsClosed():
			return fmt.Errorf("activities: runner for %q: %w", r.activityType, nats.ErrConnectionClosed)
		case err == nil:
			bo.reset()
			continue
		}

		lvl := slog.LevelWarn
		if errors.Is(err, jetstream.ErrServerShutdown) || errors.Is(err, jetstream.ErrConsumerLeadershipChanged) {
			lvl = slog.LevelInfo // routine during restarts and failovers
		}
		r.log.Log(ctx, lvl, "fetching tasks failed; retrying", slog.Any("error", err))
		if !sleep(ctx, bo.next()) {
			return nil
		}
		if !consumerGone(err) {
			continue
		}
		// Someone deleted the consumer, or the stream was recreated;
		// re-ensuring is idempotent.
		c, err := r.ensureConsumer(ctx)
		switch {
		case err == nil:
			cons = c
		case ctx.Err() != nil:
			return nil
		default:
			return err
		}
	}
}

// consumerGone reports a pull error that means the consumer no longer
// exists. No responders also covers a JetStream that is not ready yet after
// a restart, where re-ensuring is harmless.
func consumerGone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrConsumerDoesNotExist) ||
		errors.Is(err, nats.ErrNoResponders)
}

// fetch runs one pull request for up to n tasks and starts an execution for
// each task received, handing it one slot. It returns how many tasks it
// received and the pull's error, if it was more than an expiry.
func (r *Runner) fetch(ctx, hard context.Context, pulls *pullInterrupter, cons jetstream.Consumer, n int, slots chan struct{}, wg *sync.WaitGroup) (int, error) {
	fctx, cancel := pulls.begin(ctx)
	defer cancel()
	batch, err := cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		return 0, err
	}
	received := 0
	for msg := range batch.Messages() {
		received++
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.process(ctx, hard, msg, sync.OnceFunc(func() { <-slots }))
		}()
	}
	err = batch.Error()
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(context.Cause(fctx), errConnectionChanged)) {
		// Our own expiry (no tasks right now), or a pull abandoned
		// because the connection changed: not failures.
		err = nil
	}
	return received, err
}

// process validates one delivered message and executes it. release frees
// the message's slot; ownership passes to the execution once the handler
// starts.
func (r *Runner) process(ctx, hard context.Context, msg jetstream.Msg, release func()) {
	started := false
	defer func() {
		if !started {
			release()
		}
	}()

	if ctx.Err() != nil {
		// Arrived while shutting down: give it straight back.
		_ = msg.Nak()
		return
	}
	if msg.Headers().Get(headerMarkerReason) != "" {
		// A subject delete marker, not a task.
		_ = msg.Ack()
		return
	}
	meta, err := msg.Metadata()
	if err != nil {
		r.log.Error("task message without JetStream metadata; terminating it", slog.String("subject", msg.Subject()), slog.Any("error", err))
		r.deadLetter(ctx, msg, "no JetStream metadata")
		return
	}
	task, err := ParseTask(msg.Headers(), msg.Data())
	if err == nil && task.ActivityType != r.activityType {
		err = fmt.Errorf("%w: header %s is %q on the subject of %q", ErrMalformedTask, HeaderActivityType, task.ActivityType, r.activityType)
	}
	if err == nil {
		err = r.checkDestinations(task)
	}
	switch {
	case errors.Is(err, ErrUnsupportedProtocol) && meta.NumDelivered >= r.opts.unsupportedDeliveries:
		// Offered for an hour and no worker speaks it: it never will.
		r.log.Error("task of an unsupported protocol version that no worker took; moving it to the dead letters",
			slog.String("subject", msg.Subject()), slog.Uint64("stream_seq", meta.Sequence.Stream), slog.Any("error", err))
		r.deadLetter(ctx, msg, err.Error())
		return
	case errors.Is(err, ErrUnsupportedProtocol):
		r.log.Warn("task of an unsupported protocol version; leaving it for another worker",
			slog.String("subject", msg.Subject()), slog.Uint64("stream_seq", meta.Sequence.Stream), slog.Any("error", err))
		_ = msg.NakWithDelay(r.opts.unsupportedDelay)
		return
	case err != nil:
		// It can never be processed, and redelivering it forever would
		// hide it: it moves to the dead letters, with the reason, off the
		// work queue.
		r.log.Error("malformed task message; moving it to the dead letters",
			slog.String("subject", msg.Subject()), slog.Uint64("stream_seq", meta.Sequence.Stream), slog.Any("error", err))
		r.deadLetter(ctx, msg, err.Error())
		return
	}
	task.Queue = r.queue
	task.Deliveries = int(meta.NumDelivered)

	ex := newExecution(r, task, msg, time.Duration(r.ackWait.Load()))
	started = true
	ex.run(hard, release)
}

// deadLetter moves a task that will never run to the namespace's dead
// letters (streams.DeadLetter).
func (r *Runner) deadLetter(ctx context.Context, msg jetstream.Msg, reason string) {
	if err := streams.DeadLetter(ctx, r.js, r.names, "tasks", msg, reason); err != nil {
		r.log.Warn("dead letter not stored; the task is terminated all the same", slog.Any("error", err))
	}
}
