package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/optcheck"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/internal/wf"
	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/schedules"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/telemetry"
)

// asyncPublishTimeout bounds the wait for the acknowledgement of each
// asynchronous publish of the engine (the commands of a workflow task), as
// JetStream's default request timeout bounds synchronous ones.
const asyncPublishTimeout = 5 * time.Second

// ErrAlreadyRegistered is wrapped by the error Run returns when a workflow
// or activity name was registered twice on the same Worker.
var ErrAlreadyRegistered = errors.New("already registered")

// Worker serves one task queue: the workflow and activity types registered
// on it. Register everything before Run; a Worker runs once. Its methods
// are safe for concurrent use.
type Worker struct {
	nc    *nats.Conn
	queue string
	opts  options
	id    string

	mu         sync.Mutex
	workflows  map[string]executor.WorkflowFunc
	activities map[string]activityReg
	errs       []error
	engine     *orchestrator.Worker
	ready      chan struct{}
}

type activityReg struct {
	handler activities.Handler
	reg     registration
}

// New returns a Worker for queue on nc. It fails, storing nothing, when nc
// is nil, queue does not match [A-Za-z0-9_-]{1,64}, or an option is
// invalid (the error wraps ErrInvalidOption).
func New(nc *nats.Conn, queue string, opts ...Option) (*Worker, error) {
	if nc == nil {
		return nil, errors.New("worker: nil NATS connection")
	}
	if err := streams.ValidateQueue(queue); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	o := options{Namespace: "default", DataConverter: converter.JSON(), Heartbeat: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
	}
	return &Worker{nc: nc, queue: queue, opts: o, id: nuid.Next(), ready: make(chan struct{}),
		workflows: map[string]executor.WorkflowFunc{}, activities: map[string]activityReg{}}, nil
}

// registration applies opts; a failure is recorded for Run to report.
func (w *Worker) registration(kind string, r registration, fn any, opts []RegisterOption) (registration, bool) {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&r); err != nil {
			name := r.name
			if name == "" {
				name = act.Name(fn)
			}
			w.mu.Lock()
			w.errs = append(w.errs, fmt.Errorf("register %s %q: %w", kind, name, err))
			w.mu.Unlock()
			return r, false
		}
	}
	if r.name == "" {
		r.name = act.Name(fn)
	}
	return r, true
}

// Ready is closed once Run has registered the worker's types and started
// serving: from then on clients can start its workflow types.
func (w *Worker) Ready() <-chan struct{} { return w.ready }

// ID returns the worker's unique id (its heartbeat key).
func (w *Worker) ID() string { return w.id }

// RegisterWorkflow registers fn, a func(workflow.Context, In) (Out, error)
// or func(workflow.Context, In) error, under its function name (or
// WithName). Errors are reported by Run.
func (w *Worker) RegisterWorkflow(fn any, opts ...RegisterOption) {
	r, ok := w.registration("workflow", registration{}, fn, opts)
	if !ok {
		return
	}
	run, err := wf.Adapt(fn, w.opts.DataConverter)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.errs = append(w.errs, fmt.Errorf("register workflow %q: %w", r.name, err))
	case w.workflows[r.name] != nil:
		w.errs = append(w.errs, fmt.Errorf("register workflow %q: %w", r.name, ErrAlreadyRegistered))
	default:
		w.workflows[r.name] = run
	}
}

// RegisterActivity registers fn, a func(context.Context, In) (Out, error)
// or func(context.Context, In) error, under its function name (or
// WithName). Errors are reported by Run.
func (w *Worker) RegisterActivity(fn any, opts ...RegisterOption) {
	r, ok := w.registration("activity", registration{}, fn, opts)
	if !ok {
		return
	}
	h, err := act.Adapt(fn, w.opts.DataConverter)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.errs = append(w.errs, fmt.Errorf("register activity %q: %w", r.name, err))
	case w.activities[r.name].handler != nil:
		w.errs = append(w.errs, fmt.Errorf("register activity %q: %w", r.name, ErrAlreadyRegistered))
	default:
		w.activities[r.name] = activityReg{handler: h, reg: r}
	}
}

// RegisterActivityHandler registers a raw handler (payload in, payload out)
// under name: for activities whose types are only known at run time.
func (w *Worker) RegisterActivityHandler(name string, h activities.Handler, opts ...RegisterOption) {
	r, ok := w.registration("activity", registration{name: name}, nil, opts)
	if !ok {
		return
	}
	name = r.name
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case name == "":
		w.errs = append(w.errs, fmt.Errorf("register activity handler: %w", optcheck.Invalid("name", name, "must not be empty")))
		return
	case h == nil:
		w.errs = append(w.errs, fmt.Errorf("register activity %q: nil handler", name))
		return
	}
	if w.activities[name].handler != nil {
		w.errs = append(w.errs, fmt.Errorf("register activity %q: %w", name, ErrAlreadyRegistered))
		return
	}
	w.activities[name] = activityReg{handler: h, reg: r}
}

// Run provisions the namespace, registers the worker's types and serves
// the queue until ctx ends. It returns the first registration error, or an
// error if a component fails to start.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.checkRegistrations(); err != nil {
		return err
	}
	// A publish whose acknowledgement is lost (the stream's leader changed
	// while it was in flight) must fail in time, or the workflow task
	// waiting for it would wait forever, and with it every task behind it.
	js, err := jetstream.New(w.nc, jetstream.WithPublishAsyncTimeout(asyncPublishTimeout))
	if err != nil {
		return err
	}
	var provision []streams.Option
	if w.opts.Replicas > 0 {
		provision = append(provision, streams.WithReplicas(w.opts.Replicas))
	}
	if err := streams.Ensure(ctx, js, w.opts.Namespace, provision...); err != nil {
		return err
	}
	names := streams.NewNames(w.opts.Namespace)
	reg, info, err := w.announce(ctx, js, names)
	if err != nil {
		return err
	}
	var tel *telemetry.Telemetry
	if !w.opts.NoTelemetry {
		tel = telemetry.New(telemetry.Options{TracerProvider: w.opts.TracerProvider, MeterProvider: w.opts.MeterProvider,
			Logger: w.opts.Logger})
	}
	// Engine log lines carry the worker's id, and the trace and span ids of
	// the context they are logged with.
	log := slog.New(telemetry.NewLogHandler(w.opts.Logger.Handler())).With("worker_id", w.id)

	g := newGroup(ctx, len(w.activities)+2)
	defer g.stop()
	if err := w.startEngine(g, js, names, log, tel); err != nil {
		return err
	}
	w.startActivities(g, js, names, log, tel)
	if len(w.workflows) > 0 {
		// Schedules start workflows: an engine's work, which a worker of
		// activities only may not be permitted to do (streams.RoleActivity).
		g.Go(func(ctx context.Context) error { runScheduler(ctx, w.nc, js, names, log, tel); return nil })
	}
	g.Go(func(ctx context.Context) error { w.heartbeat(ctx, reg, info); return nil })

	runErr := w.serve(ctx, g)
	leaveCtx, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = reg.Leave(leaveCtx, w.id)
	return runErr
}

// checkRegistrations returns what went wrong while registering types.
func (w *Worker) checkRegistrations() error {
	w.mu.Lock()
	errs := errors.Join(w.errs...)
	w.mu.Unlock()
	if errs != nil {
		return errs
	}
	if len(w.workflows) == 0 && len(w.activities) == 0 {
		return errors.New("worker: nothing registered")
	}
	return nil
}

// announce records the worker's types in the namespace's registry (so a
// start of an unknown type is refused) and its presence among the live
// workers.
func (w *Worker) announce(ctx context.Context, js jetstream.JetStream, names streams.Names) (*store.Registry, *store.WorkerInfo, error) {
	reg, err := store.OpenRegistry(ctx, js, names)
	if err != nil {
		return nil, nil, err
	}
	info := &store.WorkerInfo{ID: w.id, PID: os.Getpid(), TaskQueue: w.queue, BuildID: w.opts.BuildID, Started: time.Now().UTC()}
	info.Host, _ = os.Hostname()
	for name := range w.workflows {
		if err := reg.Register(ctx, "workflow", w.queue, name); err != nil {
			return nil, nil, err
		}
		info.Workflows = append(info.Workflows, name)
	}
	for name := range w.activities {
		if err := reg.Register(ctx, "activity", w.queue, name); err != nil {
			return nil, nil, err
		}
		info.Activities = append(info.Activities, name)
	}
	sort.Strings(info.Workflows)
	sort.Strings(info.Activities)
	if err := reg.Heartbeat(ctx, info); err != nil {
		return nil, nil, err
	}
	return reg, info, nil
}

// startEngine starts the orchestrator of the worker's workflows, if it has
// any.
func (w *Worker) startEngine(g *group, js jetstream.JetStream, names streams.Names, log *slog.Logger, tel *telemetry.Telemetry) error {
	if len(w.workflows) == 0 {
		return nil
	}
	engine, err := orchestrator.NewWorker(w.nc, js, names, w.queue, w.workflows,
		append([]orchestrator.Option{orchestrator.WithLogger(log), orchestrator.WithTelemetry(tel)}, w.opts.Engine...)...)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.engine = engine
	w.mu.Unlock()
	g.Go(engine.Run)
	return nil
}

// startActivities starts one runner per registered activity type.
func (w *Worker) startActivities(g *group, js jetstream.JetStream, names streams.Names, log *slog.Logger, tel *telemetry.Telemetry) {
	for name, a := range w.activities {
		opts := []activities.RunnerOption{activities.WithLogger(log), activities.WithTelemetry(tel)}
		conc := a.reg.concurrency
		if conc == 0 {
			conc = w.opts.ActivityConcurrency
		}
		if conc > 0 {
			opts = append(opts, activities.WithConcurrency(conc))
		}
		if a.reg.heartbeatTimeout > 0 {
			opts = append(opts, activities.WithAckWait(a.reg.heartbeatTimeout), activities.WithAutoHeartbeat(false))
		}
		r := activities.NewRunner(js, names, w.queue, name, a.handler, opts...)
		g.Go(func(ctx context.Context) error {
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("activity %q: %w", name, err)
			}
			return nil
		})
	}
}

// runScheduler runs a scheduler runner until ctx ends: every worker with
// workflows runs one, so schedules fire with no extra process; runners share one
// consumer, so each fire is processed once. A runner that cannot start
// (the server restarting, say) is retried: giving up would silently stop
// schedules here.
func runScheduler(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, names streams.Names, log *slog.Logger, tel *telemetry.Telemetry) {
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		sr := schedules.NewRunner(nc, js, names, schedules.WithLogger(log), schedules.WithTelemetry(tel))
		err := sr.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Warn("scheduler runner stopped; restarting it", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// heartbeat keeps the worker in the live-workers bucket until ctx ends.
func (w *Worker) heartbeat(ctx context.Context, reg *store.Registry, info *store.WorkerInfo) {
	t := time.NewTicker(w.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := reg.Heartbeat(ctx, info); err != nil && ctx.Err() == nil {
				w.opts.Logger.Warn("worker heartbeat failed", "error", err)
			}
		}
	}
}

// serve reports the worker ready once its engine is (immediately without
// one), then waits for ctx to end or a component to fail, and stops them
// all.
func (w *Worker) serve(ctx context.Context, g *group) error {
	if w.engine != nil {
		select {
		case <-w.engine.Ready():
		case err := <-g.errc:
			g.stop()
			return err
		case <-ctx.Done():
		}
	}
	close(w.ready)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-g.errc:
	}
	g.stop()
	return runErr
}

// group runs a worker's components until the first fails or the group is
// stopped; stop cancels them and waits for all.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errc   chan error
}

func newGroup(parent context.Context, n int) *group {
	ctx, cancel := context.WithCancel(parent)
	return &group{ctx: ctx, cancel: cancel, errc: make(chan error, n)}
}

// Go runs f; its error, if any, is reported on errc.
func (g *group) Go(f func(context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(g.ctx); err != nil {
			g.errc <- err
		}
	}()
}

// stop cancels the components and waits for them; it may be called twice.
func (g *group) stop() {
	g.cancel()
	g.wg.Wait()
}

// CachedInstances returns how many workflow instances the worker holds in
// memory.
func (w *Worker) CachedInstances() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.engine == nil {
		return 0
	}
	return w.engine.CacheLen()
}
