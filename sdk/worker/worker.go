package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/schedules"
	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/internal/wf"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/telemetry"
)

// ErrAlreadyRegistered is returned for a second registration of a name.
var ErrAlreadyRegistered = errors.New("already registered")

// Worker serves one task queue. Register everything before Run.
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

// New returns a Worker for queue on nc.
func New(nc *nats.Conn, queue string, opts ...Option) *Worker {
	o := options{namespace: "default", dc: converter.JSON(), heartbeat: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{nc: nc, queue: queue, opts: o, id: nuid.Next(), ready: make(chan struct{}),
		workflows: map[string]executor.WorkflowFunc{}, activities: map[string]activityReg{}}
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
	var r registration
	for _, o := range opts {
		o(&r)
	}
	if r.name == "" {
		r.name = activity.Name(fn)
	}
	run, err := wf.Adapt(fn, w.opts.dc)
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

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

// RegisterActivity registers fn, a func(context.Context, In) (Out, error)
// or func(context.Context, In) error, under its function name (or
// WithName). Errors are reported by Run.
func (w *Worker) RegisterActivity(fn any, opts ...RegisterOption) {
	var r registration
	for _, o := range opts {
		o(&r)
	}
	if r.name == "" {
		r.name = activity.Name(fn)
	}
	h, err := adaptActivity(fn, w.opts.dc)
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
	r := registration{name: name}
	for _, o := range opts {
		o(&r)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.activities[name].handler != nil {
		w.errs = append(w.errs, fmt.Errorf("register activity %q: %w", name, ErrAlreadyRegistered))
		return
	}
	w.activities[name] = activityReg{handler: h, reg: r}
}

func adaptActivity(fn any, dc converter.DataConverter) (activities.Handler, error) {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumIn() != 2 || t.In(0) != ctxType ||
		(t.NumOut() != 1 && t.NumOut() != 2) || t.Out(t.NumOut()-1) != errType {
		return nil, fmt.Errorf("activity must be func(context.Context, In) (Out, error) or func(context.Context, In) error; got %s", t)
	}
	inType := t.In(1)
	hasResult := t.NumOut() == 2
	return activity.Handler(func(ctx context.Context, in rawInput) ([]byte, error) {
		arg := reflect.New(inType)
		if err := dc.FromPayload(in, arg.Interface()); err != nil {
			return nil, invalidInput(err, inType)
		}
		out := v.Call([]reflect.Value{reflect.ValueOf(ctx), arg.Elem()})
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
		if !hasResult {
			return []byte("null"), nil
		}
		return dc.ToPayload(out[0].Interface())
	}, rawConverter{}), nil
}

// Run provisions the namespace, registers the worker's types and serves
// the queue until ctx ends. It returns the first registration error, or an
// error if a component fails to start.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	errs := errors.Join(w.errs...)
	w.mu.Unlock()
	if errs != nil {
		return errs
	}
	if err := streams.ValidateNamespace(w.opts.namespace); err != nil {
		return err
	}
	if err := streams.ValidateQueue(w.queue); err != nil {
		return err
	}
	if len(w.workflows) == 0 && len(w.activities) == 0 {
		return errors.New("worker: nothing registered")
	}
	js, err := jetstream.New(w.nc)
	if err != nil {
		return err
	}
	if err := streams.Ensure(ctx, js, w.opts.namespace); err != nil {
		return err
	}
	names := streams.NewNames(w.opts.namespace)
	reg, err := store.OpenRegistry(ctx, js, names)
	if err != nil {
		return err
	}
	info := &store.WorkerInfo{ID: w.id, PID: os.Getpid(), TaskQueue: w.queue, BuildID: w.opts.buildID, Started: time.Now().UTC()}
	info.Host, _ = os.Hostname()
	for name := range w.workflows {
		if err := reg.Register(ctx, "workflow", w.queue, name); err != nil {
			return err
		}
		info.Workflows = append(info.Workflows, name)
	}
	for name := range w.activities {
		if err := reg.Register(ctx, "activity", w.queue, name); err != nil {
			return err
		}
		info.Activities = append(info.Activities, name)
	}
	sort.Strings(info.Workflows)
	sort.Strings(info.Activities)
	if err := reg.Heartbeat(ctx, info); err != nil {
		return err
	}

	var tel *telemetry.Telemetry
	if !w.opts.noTelemetry {
		tel = telemetry.New(telemetry.Options{TracerProvider: w.opts.tracerProvider, MeterProvider: w.opts.meterProvider,
			Logger: w.opts.logger})
	}
	// Engine log lines carry the worker's id, and the trace and span ids of
	// the context they are logged with.
	log := slog.New(telemetry.NewLogHandler(w.opts.logger.Handler())).With("worker_id", w.id)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(w.activities)+2)
	if len(w.workflows) > 0 {
		engine, err := orchestrator.NewWorker(w.nc, js, names, w.queue, w.workflows,
			append([]orchestrator.Option{orchestrator.WithLogger(log), orchestrator.WithTelemetry(tel)}, w.opts.orchestrator...)...)
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.engine = engine
		w.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := engine.Run(runCtx); err != nil {
				errc <- err
			}
		}()
	}
	for name, a := range w.activities {
		opts := []activities.RunnerOption{activities.WithLogger(log), activities.WithTelemetry(tel)}
		conc := a.reg.concurrency
		if conc == 0 {
			conc = w.opts.activityConcurrency
		}
		if conc > 0 {
			opts = append(opts, activities.WithConcurrency(conc))
		}
		if a.reg.heartbeatTimeout > 0 {
			opts = append(opts, activities.WithAckWait(a.reg.heartbeatTimeout), activities.WithAutoHeartbeat(false))
		}
		r := activities.NewRunner(js, names, w.queue, name, a.handler, opts...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(runCtx); err != nil && runCtx.Err() == nil {
				errc <- fmt.Errorf("activity %q: %w", name, err)
			}
		}()
	}
	// Every worker also runs a scheduler runner, so schedules fire with no
	// extra process; runners share one consumer, so each fire is processed
	// once.
	wg.Add(1)
	go func() {
		defer wg.Done()
		// A runner that cannot start (the server restarting, say) is
		// retried: giving up would silently stop schedules here.
		for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
			sr := schedules.NewRunner(w.nc, js, names, schedules.WithLogger(log), schedules.WithTelemetry(tel))
			err := sr.Run(runCtx)
			if runCtx.Err() != nil {
				return
			}
			log.Warn("scheduler runner stopped; restarting it", "error", err, "in", wait)
			select {
			case <-runCtx.Done():
				return
			case <-time.After(wait):
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(w.opts.heartbeat)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if err := reg.Heartbeat(runCtx, info); err != nil && runCtx.Err() == nil {
					w.opts.logger.Warn("worker heartbeat failed", "error", err)
				}
			}
		}
	}()
	if w.engine != nil {
		select {
		case <-w.engine.Ready():
		case err := <-errc:
			cancel()
			wg.Wait()
			return err
		case <-ctx.Done():
		}
	}
	close(w.ready)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	wg.Wait()
	leaveCtx, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = reg.Leave(leaveCtx, w.id)
	return runErr
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
