package testenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/wf"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/worker"
)

// WorkflowEnv runs workflow code in process, without a NATS server, on a
// virtual clock: the unit-test environment of cairn (the counterpart of
// Temporal's testsuite.TestWorkflowEnvironment). It drives the same
// executor the engine runs, produces the inbound events the orchestrator
// would (activity results and retries, timer fires, child closes,
// timeouts), and records the batches a real run would commit, so its
// History replays like one.
//
// Time only moves when the env moves it: ExecuteWorkflow and Run jump the
// clock straight to the next due timer, retry or delayed callback whenever
// the workflow has nothing else to do, so a workflow that sleeps for a year
// finishes in milliseconds. Skip moves the clock by a given amount.
//
// Activities run in process, one at a time in the order the workflow
// scheduled them, taking no virtual time: the registered functions, or
// the mocks set with OnActivity. Failed attempts are retried by the
// workflow's retry policy at the virtual time the engine would retry them.
//
// A WorkflowEnv belongs to one test goroutine. Activities and callbacks
// set with At may call its methods (Signal, CancelWorkflow,
// CompleteCallback...); those take effect once the activity returns.
//
// When the test ends, every recorded run is replayed against the code (a
// free determinism check of the test run; WithoutReplayCheck turns it off)
// and the workflow coroutines are released.
type WorkflowEnv struct {
	t          testing.TB
	cfg        workflowConfig
	workflows  map[string]executor.WorkflowFunc
	activities map[string]activities.Handler
	mocks      map[string]activities.Handler

	now      time.Time
	timeline timeline
	runs     []*run // every run started, in start order
	root     *run   // first run of the workflow under test; follow next for later runs
	// startEvents are signals raised before the workflow started: they
	// go into its start batch, as with signal-with-start.
	startEvents []*history.SignalReceived
	signalSeq   int
	tasks       int
	driving     bool
	err         error // a fatal error of the env (a run that panicked, the task bound)

	mu    sync.Mutex // guards calls: activities may run on other goroutines
	calls map[string]int
}

// ErrNotStarted is returned by Result and Err before the workflow started.
var ErrNotStarted = errors.New("testenv: workflow not started")

// ErrStillRunning is returned (wrapped, with what the run waits for) by
// Result and Err while the workflow is open: nothing was left to fire, so
// it waits for an event, a callback or a child outside the env.
var ErrStillRunning = errors.New("testenv: workflow still running")

// ErrTooManyTasks is returned (wrapped) by Err when the env stopped a run
// that did not settle within the task bound (WithMaxTasks), typically an
// activity failing forever under the default retry policy, which has no
// attempt limit.
var ErrTooManyTasks = errors.New("testenv: too many workflow tasks")

// DefaultStartTime is the virtual time a WorkflowEnv starts at, unless
// WithStartTime says otherwise: fixed, so workflow.Now is the same on
// every test run.
var DefaultStartTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// WorkflowEnvOption configures NewWorkflowEnv.
type WorkflowEnvOption func(*workflowConfig)

type workflowConfig struct {
	start       time.Time
	workflowID  string
	queue       string
	timeout     time.Duration
	seed        uint64
	logger      *slog.Logger
	dc          converter.DataConverter
	replayCheck bool
	maxTasks    int
}

// WithStartTime sets the virtual time the env starts at.
func WithStartTime(t time.Time) WorkflowEnvOption {
	return func(c *workflowConfig) { c.start = t }
}

// WithWorkflowID sets the id of the workflow under test (default
// "test-workflow").
func WithWorkflowID(id string) WorkflowEnvOption {
	return func(c *workflowConfig) { c.workflowID = id }
}

// WithTaskQueue sets the task queue the workflow runs on (default
// "default"); activity.GetInfo reports it.
func WithTaskQueue(q string) WorkflowEnvOption {
	return func(c *workflowConfig) { c.queue = q }
}

// WithWorkflowExecutionTimeout bounds the workflow's run in virtual time, as
// client.StartOptions.WorkflowExecutionTimeout does on a server: when it passes,
// the run closes as timed out.
func WithWorkflowExecutionTimeout(d time.Duration) WorkflowEnvOption {
	return func(c *workflowConfig) { c.timeout = d }
}

// WithRandomSeed sets the seed of workflow.Random and workflow.UUID.
func WithRandomSeed(seed uint64) WorkflowEnvOption {
	return func(c *workflowConfig) { c.seed = seed }
}

// WithLogger receives the workflow's log lines (default: discarded).
func WithLogger(l *slog.Logger) WorkflowEnvOption {
	return func(c *workflowConfig) { c.logger = l }
}

// WithDataConverter replaces the JSON payload converter.
func WithDataConverter(dc converter.DataConverter) WorkflowEnvOption {
	return func(c *workflowConfig) { c.dc = dc }
}

// WithoutReplayCheck turns off the replay of recorded runs at the end of
// the test.
func WithoutReplayCheck() WorkflowEnvOption {
	return func(c *workflowConfig) { c.replayCheck = false }
}

// WithMaxTasks bounds the workflow tasks (across all runs) the env
// executes (default 100,000): past it the env stops with ErrTooManyTasks
// rather than loop for ever in virtual time.
func WithMaxTasks(n int) WorkflowEnvOption {
	return func(c *workflowConfig) { c.maxTasks = n }
}

// NewWorkflowEnv returns an env whose clock stands at DefaultStartTime (or
// WithStartTime). Register workflows and activities, set mocks, then call
// ExecuteWorkflow (or Start).
func NewWorkflowEnv(t testing.TB, opts ...WorkflowEnvOption) *WorkflowEnv {
	t.Helper()
	cfg := workflowConfig{start: DefaultStartTime, workflowID: "test-workflow", queue: "default", seed: 1,
		dc: converter.JSON(), replayCheck: true, maxTasks: 100_000}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	e := &WorkflowEnv{t: t, cfg: cfg, now: cfg.start,
		workflows: map[string]executor.WorkflowFunc{}, activities: map[string]activities.Handler{},
		mocks: map[string]activities.Handler{}, calls: map[string]int{}}
	t.Cleanup(e.cleanup)
	return e
}

// RegisterWorkflow registers fn, a func(workflow.Context, In) (Out, error)
// or func(workflow.Context, In) error, under its function name, as a
// Worker does: for child workflows and for ExecuteWorkflow by name.
func (e *WorkflowEnv) RegisterWorkflow(fn any) {
	e.t.Helper()
	e.RegisterWorkflowAs(act.Name(fn), fn)
}

// RegisterWorkflowAs registers fn under name (worker.WithName).
func (e *WorkflowEnv) RegisterWorkflowAs(name string, fn any) {
	e.t.Helper()
	w, err := wf.Adapt(fn, e.cfg.dc)
	switch {
	case err != nil:
		e.t.Fatalf("testenv: register workflow %q: %v", name, err)
	case name == "":
		e.t.Fatalf("testenv: register workflow: no name (use RegisterWorkflowAs for anonymous functions)")
	case e.workflows[name] != nil:
		e.t.Fatalf("testenv: register workflow %q: %v", name, worker.ErrAlreadyRegistered)
	}
	e.workflows[name] = w
}

// RegisterActivity registers fn, a func(context.Context, In) (Out, error)
// or func(context.Context, In) error, under its function name.
func (e *WorkflowEnv) RegisterActivity(fn any) {
	e.t.Helper()
	e.RegisterActivityAs(act.Name(fn), fn)
}

// RegisterActivityAs registers fn under name (worker.WithName).
func (e *WorkflowEnv) RegisterActivityAs(name string, fn any) {
	e.t.Helper()
	h, err := act.Adapt(fn, e.cfg.dc)
	switch {
	case err != nil:
		e.t.Fatalf("testenv: register activity %q: %v", name, err)
	case name == "":
		e.t.Fatalf("testenv: register activity: no name (use RegisterActivityAs for anonymous functions)")
	case e.activities[name] != nil:
		e.t.Fatalf("testenv: register activity %q: %v", name, worker.ErrAlreadyRegistered)
	}
	e.activities[name] = h
}

// OnActivity makes the activity named by activityType (its name, or the
// activity function itself) run mock instead of the registered function;
// the activity need not be registered. mock has the activity's shape,
// func(context.Context, In) (Out, error) or func(context.Context, In)
// error; it is called once per attempt (activity.GetInfo(ctx).Attempt
// tells which), and a retryable error it returns is retried by the
// workflow's retry policy. A later OnActivity for the same type replaces
// the mock.
func (e *WorkflowEnv) OnActivity(activityType any, mock any) {
	e.t.Helper()
	name, ok := activityType.(string)
	if !ok {
		name = act.Name(activityType)
	}
	if name == "" {
		e.t.Fatalf("testenv: OnActivity: %v names no activity", activityType)
	}
	h, err := act.Adapt(mock, e.cfg.dc)
	if err != nil {
		e.t.Fatalf("testenv: mock of activity %q: %v", name, err)
	}
	e.mocks[name] = h
}

// ActivityCalls returns how many attempts of activity type name ran
// (registered function or mock).
func (e *WorkflowEnv) ActivityCalls(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[name]
}

// Now returns the env's virtual time.
func (e *WorkflowEnv) Now() time.Time { return e.now }

// payload encodes v with the env's converter; a json.RawMessage passes
// through.
func (e *WorkflowEnv) payload(v any) (json.RawMessage, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := e.cfg.dc.ToPayload(v)
	if err != nil {
		return nil, fmt.Errorf("testenv: encode payload: %w", err)
	}
	return b, nil
}

// cleanup replays what the test recorded, when asked to, and releases the
// coroutines of every run.
func (e *WorkflowEnv) cleanup() {
	for _, r := range e.runs {
		if e.cfg.replayCheck && r.fatal == nil {
			if err := replayFunc(r.fn, r.batches, e.cfg.logger); err != nil {
				e.t.Errorf("testenv: determinism check: the history recorded by this test does not replay: %v", err)
			}
		}
		r.inst.Close()
	}
}
