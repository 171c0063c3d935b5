package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/telemetry"
	"github.com/cairnhq/cairn/timers"
)

// Runner turns the fires of a namespace's schedules into workflow starts.
//
// Every runner of a namespace shares one durable consumer on the fire
// subjects, so a fire is processed by one runner (again by another if that
// one dies before acknowledging it). Processing a fire:
//
//  1. reads the schedule (a deleted schedule's stray schedule message is
//     purged; a paused schedule's fire is dropped);
//  2. makes sure the starts the previous decision recorded were made, and
//     asks history whether the latest start still runs;
//  3. decides with the overlap and catch-up policies (decide);
//  4. writes the new state with compare-and-set (on a conflict: back to 1);
//  5. makes the starts, each with a deterministic workflow id and never
//     reusing a closed id; then acknowledges the fire.
//
// A crash after 4 leaves the fire unacknowledged; its redelivery is a
// duplicate (its time is not after LastFire), and step 2 makes the
// recorded starts. Starts are therefore exactly-once per fire time.
//
// A runner also watches, for every schedule holding a buffered start, the
// summary of the run it waits for, and starts the buffered one when that
// run closes (each fire checks too, in case a summary write was lost).
type Runner struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	names streams.Names
	log   *slog.Logger
	tel   *telemetry.Telemetry

	store     *Store
	orch      store.Backend
	summaries *store.Summaries
	ready     chan struct{}
}

// RunnerOption configures a Runner.
type RunnerOption func(*Runner)

// WithLogger sets the runner's logger (default: discard).
func WithLogger(l *slog.Logger) RunnerOption { return func(r *Runner) { r.log = l } }

// WithTelemetry gives every start a span (of the scheduler's trace) whose
// context the run's trace continues. Nil leaves starts untraced.
func WithTelemetry(t *telemetry.Telemetry) RunnerOption { return func(r *Runner) { r.tel = t } }

// NewRunner returns a runner of the namespace of names. The namespace must
// be provisioned (streams.Ensure).
func NewRunner(nc *nats.Conn, js jetstream.JetStream, names streams.Names, opts ...RunnerOption) *Runner {
	r := &Runner{nc: nc, js: js, names: names, log: slog.New(slog.DiscardHandler), ready: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Ready is closed once the runner consumes fires.
func (r *Runner) Ready() <-chan struct{} { return r.ready }

// Run processes fires until ctx ends. It returns an error only if it
// cannot start.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	cons, err := streams.EnsureSchedulerConsumer(ctx, r.js, r.names)
	if err != nil {
		return fmt.Errorf("schedules: %w", err)
	}
	r.reconcile(ctx)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.watchBuffered(ctx)
	}()
	cc, err := cons.Consume(func(m jetstream.Msg) { r.handle(ctx, m) },
		jetstream.PullMaxMessages(64),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) {
				r.log.Debug("scheduler consumer", "error", err)
			}
		}))
	if err != nil {
		return fmt.Errorf("schedules: consume: %w", err)
	}
	close(r.ready)
	<-ctx.Done()
	cc.Stop()
	wg.Wait()
	return nil
}

// open opens the buckets and stores the runner works with.
func (r *Runner) open(ctx context.Context) error {
	var err error
	if r.store, err = OpenStore(ctx, r.nc, r.js, r.names); err != nil {
		return err
	}
	if r.summaries, err = store.NewSummaries(ctx, r.js, r.names); err != nil {
		return fmt.Errorf("schedules: %w", err)
	}
	r.orch = store.New(r.nc, r.js, r.names)
	return nil
}

// handle processes one fire message and acknowledges it, or asks for a
// redelivery when it could not be processed.
func (r *Runner) handle(ctx context.Context, m jetstream.Msg) {
	id, err := streams.UnescapeToken(strings.TrimPrefix(m.Subject(), strings.TrimSuffix(r.names.ScheduleFireFilter(), ">")))
	if err != nil {
		r.log.Warn("schedule fire on an unexpected subject; dropped", "subject", m.Subject())
		_ = m.Term()
		return
	}
	var f fire
	h := m.Headers()
	if v := h.Get(hdrTrigger); v != "" {
		f.Manual = true
		f.Nominal, err = time.Parse(time.RFC3339Nano, v)
	} else {
		f.Next, err = time.Parse(time.RFC3339Nano, h.Get(timers.HeaderScheduleNext))
	}
	if err != nil {
		r.log.Warn("schedule fire without a usable time; dropped", "schedule_id", id, "error", err)
		_ = m.Term()
		return
	}
	if err := r.process(ctx, id, f); err != nil {
		if ctx.Err() != nil {
			return // redelivered to another runner after the ack wait
		}
		r.log.Warn("schedule fire failed; it will be retried", "schedule_id", id, "error", err)
		_ = m.NakWithDelay(time.Second)
		return
	}
	_ = m.Ack()
}

// process decides and makes the starts of one fire (see Runner).
func (r *Runner) process(ctx context.Context, id string, f fire) error {
	for range updateAttempts {
		sch, err := r.store.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			if !f.Manual {
				// A schedule message outlived its schedule (a delete
				// interrupted between its two steps): stop it.
				if err := r.store.purgeSchedule(ctx, id); err != nil {
					return err
				}
			}
			return nil
		}
		if err != nil {
			return err
		}
		if sch.Paused && !f.Manual {
			return nil
		}
		spec, err := ParseSpec(sch.Spec, sch.TimeZone)
		if err != nil {
			r.log.Error("stored schedule has an invalid spec; fire dropped", "schedule_id", id, "error", err)
			return nil
		}
		if !f.Manual {
			if f.Nominal = spec.Nominal(f.Next); f.Nominal.IsZero() {
				r.log.Error("no fire time before the server's next one; fire dropped", "schedule_id", id, "next", f.Next)
				return nil
			}
		}
		running, err := r.heal(ctx, sch)
		if err != nil {
			return err
		}
		st, starts, ok := decide(sch, spec, f, running, time.Now().UTC())
		if !ok {
			r.log.Debug("duplicate schedule fire", "schedule_id", id, "fire", f.Nominal)
			return nil
		}
		sch.State = st
		written, err := r.store.put(ctx, sch)
		if err != nil {
			return err
		}
		if !written {
			continue // somebody else changed the schedule; decide again
		}
		for _, t := range starts {
			if err := r.start(ctx, sch, sch.WorkflowID(t)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("schedule %q: fire at %s: too much contention", id, f.Nominal)
}

// heal makes the starts the schedule's latest decision recorded (they are
// idempotent, so usually this only reads their heads) and reports whether
// the latest start is still running.
func (r *Runner) heal(ctx context.Context, sch *Schedule) (bool, error) {
	for _, wid := range sch.State.Started {
		if err := r.start(ctx, sch, wid); err != nil {
			return false, err
		}
	}
	if sch.State.Running == "" {
		return false, nil
	}
	head, err := r.orch.Head(ctx, sch.State.Running)
	if err != nil {
		return false, fmt.Errorf("schedule %q: %w", sch.ID, err)
	}
	if head == nil {
		// Recorded but never made (only possible for states written
		// before Started existed): make it now.
		return true, r.start(ctx, sch, sch.State.Running)
	}
	return head.Status == history.StatusRunning, nil
}

// start starts the schedule's action as workflow id wid. An id already
// started (running or closed) is success: the fire time it stands for has
// had its run.
func (r *Runner) start(ctx context.Context, sch *Schedule, wid string) error {
	a := sch.Action
	req := store.StartRequest{
		WorkflowID: wid, WorkflowType: a.WorkflowType, TaskQueue: a.TaskQueue, Input: a.Input,
		RequestID: "schedule/" + sch.ID, Reuse: store.RejectDuplicate, Memo: a.Memo,
		ExecutionTimeout: a.ExecutionTimeout.D(),
	}
	if r.tel != nil {
		var span trace.Span
		ctx, span = r.tel.StartWorkflowStart(ctx, r.names.Namespace(), wid, a.WorkflowType, a.TaskQueue,
			r.names.InboxSubject(a.TaskQueue, wid))
		span.SetAttributes(attribute.String("cairn.schedule.id", sch.ID))
		defer span.End()
		carrier := propagation.MapCarrier{}
		propagation.TraceContext{}.Inject(ctx, carrier)
		req.TraceParent = carrier["traceparent"]
	}
	res, err := r.orch.Start(ctx, req)
	if errors.Is(err, store.ErrAlreadyExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("schedule %q: start workflow %q: %w", sch.ID, wid, err)
	}
	if res.Created {
		r.log.Info("schedule started a workflow", "schedule_id", sch.ID, "workflow_id", wid, "run", res.Run)
		// The summary is a listing index: history is committed, so a
		// failure here only delays the listing until the worker writes it.
		if err := r.summaries.Started(ctx, &history.Summary{WorkflowID: wid, WorkflowType: a.WorkflowType,
			TaskQueue: a.TaskQueue, Run: res.Run, Status: history.StatusRunning, StartTime: res.StartTime,
			HistorySeq: res.Head.Seq}); err != nil {
			r.log.Warn("instance summary not written", "workflow_id", wid, "error", err)
		}
	}
	return nil
}

// reconcile re-publishes the schedule message of every active schedule
// that has none: a process that died between storing a schedule and
// publishing its message (create, unpause) left it silent.
func (r *Runner) reconcile(ctx context.Context) {
	all, err := r.store.List(ctx)
	if err != nil {
		r.log.Warn("schedules not reconciled", "error", err)
		return
	}
	for _, sch := range all {
		if sch.Paused {
			continue
		}
		has, err := r.store.hasScheduleMsg(ctx, sch.ID)
		if err != nil || has {
			continue
		}
		// Re-read: a pause or delete may have happened since the list.
		cur, err := r.store.Get(ctx, sch.ID)
		if err != nil || cur.Paused {
			continue
		}
		spec, err := ParseSpec(cur.Spec, cur.TimeZone)
		if err != nil {
			continue
		}
		if err := r.store.publishSchedule(ctx, cur.ID, spec); err != nil {
			r.log.Warn("lost schedule message not re-created", "schedule_id", cur.ID, "error", err)
			continue
		}
		r.log.Info("re-created a lost schedule message", "schedule_id", cur.ID)
	}
}
