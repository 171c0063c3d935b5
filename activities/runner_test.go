package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/testenv"
)

const (
	testQueue = "q"
	// waitResult bounds every wait for a result. Generous: it only matters
	// when a test is about to fail.
	waitResult = 30 * time.Second
)

// harness is one environment with a consumer capturing the results that
// runners publish to the queue's inbox subjects.
type harness struct {
	t       *testing.T
	env     *testenv.Env
	names   streams.Names
	results jetstream.Consumer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := testenv.New(t)
	names := env.Names()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	results, err := env.JetStream().CreateOrUpdateConsumer(ctx, names.InboxStream(), jetstream.ConsumerConfig{
		Durable:       "test-results",
		FilterSubject: names.InboxFilter(testQueue),
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, env: env, names: names, results: results}
}

// task returns a valid task of activityType whose result goes to the
// harness's inbox.
func (h *harness) task(activityType, workflowID string) *activities.Task {
	return &activities.Task{
		ActivityAttempt: history.ActivityAttempt{
			Namespace:    h.env.Namespace(),
			WorkflowID:   workflowID,
			Run:          "run-" + workflowID,
			WorkflowType: "TestWorkflow",
			ActivityID:   "1",
			ActivityType: activityType,
			Attempt:      1,
			Scheduled:    time.Now(),
		},
		Reply:       h.names.ActivityInboxSubject(testQueue, workflowID),
		Input:       []byte(`{"n":1}`),
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
}

// publish publishes the task, retrying while the server restarts.
func (h *harness) publish(js jetstream.JetStream, task *activities.Task) {
	h.t.Helper()
	h.publishMsg(js, activities.NewTaskMsg(h.names.TaskSubject(testQueue, task.ActivityType), task))
}

func (h *harness) publishMsg(js jetstream.JetStream, msg *nats.Msg) {
	h.t.Helper()
	// Publishing is retried: some tests publish while the server restarts.
	testutil.Eventually(h.t, waitResult, func() error {
		ctx, cancel := context.WithTimeout(h.t.Context(), 2*time.Second)
		defer cancel()
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			return fmt.Errorf("publish %s: %w", msg.Subject, err)
		}
		return nil
	})
}

// next waits for the next result.
func (h *harness) next() *activities.Result {
	h.t.Helper()
	deadline := time.Now().Add(waitResult)
	for time.Now().Before(deadline) {
		msg, err := h.results.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			continue // timeouts, and errors while the server restarts
		}
		if err := msg.Ack(); err != nil {
			h.t.Fatalf("ack result: %v", err)
		}
		r, err := activities.ParseResult(msg.Headers(), msg.Data())
		if err != nil {
			h.t.Fatalf("parse result: %v", err)
		}
		return r
	}
	h.t.Fatal("no result")
	return nil
}

// noMore asserts that no further result arrives within d.
func (h *harness) noMore(d time.Duration) {
	h.t.Helper()
	if msg, err := h.results.Next(jetstream.FetchMaxWait(d)); err == nil {
		h.t.Fatalf("unexpected extra result: %v %s", msg.Headers(), msg.Data())
	}
}

// waitTasksDrained waits until the tasks stream is empty: every task was
// acked or terminated.
func (h *harness) waitTasksDrained() {
	h.t.Helper()
	testutil.Eventually(h.t, waitResult, func() error {
		s, err := h.env.JetStream().Stream(h.t.Context(), h.names.TasksStream())
		if err != nil {
			return err
		}
		info, err := s.Info(h.t.Context())
		if err != nil {
			return err
		}
		if info.State.Msgs != 0 {
			return fmt.Errorf("tasks stream holds %d messages", info.State.Msgs)
		}
		return nil
	})
}

type runnerHandle struct {
	cancel context.CancelFunc
	done   chan error
}

// stop cancels the runner and returns Run's error.
func (r *runnerHandle) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // keep it for cleanup
		return err
	case <-time.After(waitResult):
		t.Fatal("runner did not stop")
		return nil
	}
}

// wait returns Run's error once the runner stops by itself.
func (r *runnerHandle) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(waitResult):
		t.Fatal("runner did not stop")
		return nil
	}
}

// start runs a Runner on js until the test ends.
func (h *harness) start(js jetstream.JetStream, activityType string, handler activities.Handler, opts ...activities.RunnerOption) *runnerHandle {
	h.t.Helper()
	base := []activities.RunnerOption{
		activities.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		activities.WithAckWait(2 * time.Second),
		activities.WithShutdownGrace(time.Second),
	}
	r := activities.NewRunner(js, h.names, testQueue, activityType, handler, append(base, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	rh := &runnerHandle{cancel: cancel, done: make(chan error, 1)}
	go func() { rh.done <- r.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-rh.done:
		case <-time.After(waitResult):
			h.t.Error("runner did not stop")
		}
	})
	return rh
}

func TestRunnerCompletes(t *testing.T) {
	h := newHarness(t)
	h.start(h.env.JetStream(), "Echo", func(ctx context.Context, task *activities.Task) ([]byte, error) {
		info, ok := activities.InfoFrom(ctx)
		if !ok || info.ActivityID != task.ActivityID || info.Queue != testQueue || info.Deliveries != 1 {
			return nil, fmt.Errorf("bad info %+v", info)
		}
		if err := activities.RecordHeartbeat(ctx); err != nil {
			return nil, err
		}
		return task.Input, nil
	})
	task := h.task("Echo", "wf-complete")
	task.Attempt = 3
	h.publish(h.env.JetStream(), task)

	r := h.next()
	if r.Failure != nil {
		t.Fatalf("failed: %v", r.Failure)
	}
	want := &activities.Result{Run: task.Run, ActivityID: "1", Attempt: 3, Deliveries: 1, Output: []byte(`{"n":1}`), TraceParent: task.TraceParent}
	if string(r.Output) != string(want.Output) || r.Run != want.Run || r.ActivityID != want.ActivityID ||
		r.Attempt != want.Attempt || r.Deliveries != want.Deliveries || r.TraceParent != want.TraceParent {
		t.Fatalf("result = %+v, want %+v", r, want)
	}
	h.waitTasksDrained()
}

func TestRunnerReportsFailures(t *testing.T) {
	h := newHarness(t)
	h.start(h.env.JetStream(), "Fail", func(ctx context.Context, task *activities.Task) ([]byte, error) {
		switch task.WorkflowID {
		case "wf-app":
			return nil, failure.New("no funds", "CardDeclined", failure.WithNonRetryable(), failure.WithDetails(map[string]int{"code": 51}))
		case "wf-plain":
			return nil, fmt.Errorf("dial: %w", io.ErrUnexpectedEOF)
		case "wf-panic":
			var m map[string]int
			m["boom"] = 1 // panics
		case "wf-nil":
			return nil, nil
		case "wf-badjson":
			return []byte("{not json"), nil
		}
		return nil, errors.New("unexpected")
	})

	tests := []struct {
		workflowID string
		check      func(t *testing.T, r *activities.Result)
	}{
		{"wf-app", func(t *testing.T, r *activities.Result) {
			var app *failure.ApplicationError
			if err := failconv.FromFailure(r.Failure); !errors.As(err, &app) || app.Type != "CardDeclined" || !app.NonRetryable || string(app.Details) != `{"code":51}` {
				t.Fatalf("failure = %#v", r.Failure)
			}
		}},
		{"wf-plain", func(t *testing.T, r *activities.Result) {
			if r.Failure == nil || r.Failure.Type != history.FailureGeneric || r.Failure.Message != "dial: unexpected EOF" {
				t.Fatalf("failure = %#v", r.Failure)
			}
		}},
		{"wf-panic", func(t *testing.T, r *activities.Result) {
			var p *failure.PanicError
			if err := failconv.FromFailure(r.Failure); !errors.As(err, &p) || !strings.Contains(p.Value, "nil map") || !strings.Contains(p.Stack, "runner_test.go") {
				t.Fatalf("failure = %#v", r.Failure)
			}
		}},
		{"wf-nil", func(t *testing.T, r *activities.Result) {
			if r.Failure != nil || string(r.Output) != "null" {
				t.Fatalf("result = %+v", r)
			}
		}},
		{"wf-badjson", func(t *testing.T, r *activities.Result) {
			if r.Failure == nil || r.Failure.Type != activities.FailureInvalidOutput || !r.Failure.NonRetryable {
				t.Fatalf("failure = %#v", r.Failure)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.workflowID, func(t *testing.T) {
			h.publish(h.env.JetStream(), h.task("Fail", tt.workflowID))
			r := h.next()
			if r.Run != "run-"+tt.workflowID {
				t.Fatalf("result of %s, want %s", r.Run, "run-"+tt.workflowID)
			}
			tt.check(t, r)
		})
	}
	h.waitTasksDrained()
}

func TestRunnerScheduleToStartExpired(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int32
	h.start(h.env.JetStream(), "Late", func(context.Context, *activities.Task) ([]byte, error) {
		calls.Add(1)
		return nil, nil
	})
	task := h.task("Late", "wf-late")
	task.Scheduled = time.Now().Add(-time.Minute)
	task.ScheduleToStart = time.Second
	h.publish(h.env.JetStream(), task)

	r := h.next()
	var te *failure.TimeoutError
	if err := failconv.FromFailure(r.Failure); !errors.As(err, &te) || te.Kind != failure.TimeoutScheduleToStart {
		t.Fatalf("failure = %#v", r.Failure)
	}
	if failconv.IsRetryable(r.Failure, nil) {
		t.Fatal("schedule-to-start timeout is retryable")
	}
	if calls.Load() != 0 {
		t.Fatal("handler ran for an expired task")
	}
	h.waitTasksDrained()
}

func TestRunnerScheduleToCloseExpired(t *testing.T) {
	h := newHarness(t)
	h.start(h.env.JetStream(), "Past", func(context.Context, *activities.Task) ([]byte, error) { return nil, nil })
	task := h.task("Past", "wf-past")
	task.Deadline = time.Now().Add(-time.Second)
	h.publish(h.env.JetStream(), task)

	var te *failure.TimeoutError
	if r := h.next(); !errors.As(failconv.FromFailure(r.Failure), &te) || te.Kind != failure.TimeoutScheduleToClose {
		t.Fatalf("failure = %#v", r.Failure)
	}
}

func TestRunnerStartToCloseTimeout(t *testing.T) {
	h := newHarness(t)
	h.start(h.env.JetStream(), "Slow", func(ctx context.Context, task *activities.Task) ([]byte, error) {
		if task.WorkflowID == "wf-ignores-ctx" {
			time.Sleep(2 * time.Second) // a handler that does not honour ctx
			return []byte(`"too late"`), nil
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	for _, id := range []string{"wf-honours-ctx", "wf-ignores-ctx"} {
		t.Run(id, func(t *testing.T) {
			task := h.task("Slow", id)
			task.StartToClose = 200 * time.Millisecond
			h.publish(h.env.JetStream(), task)
			r := h.next()
			var te *failure.TimeoutError
			if !errors.As(failconv.FromFailure(r.Failure), &te) || te.Kind != failure.TimeoutStartToClose {
				t.Fatalf("failure = %#v", r.Failure)
			}
			if !failconv.IsRetryable(r.Failure, nil) {
				t.Fatal("start-to-close timeout is not retryable")
			}
		})
	}
	h.noMore(500 * time.Millisecond)
}

func TestRunnerHeartbeatTimeout(t *testing.T) {
	h := newHarness(t)
	h.start(h.env.JetStream(), "Beat", func(ctx context.Context, task *activities.Task) ([]byte, error) {
		if task.WorkflowID == "wf-silent" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		// Heartbeat for several heartbeat timeouts, then complete.
		for range 12 {
			if err := activities.RecordHeartbeat(ctx); err != nil {
				return nil, err
			}
			time.Sleep(50 * time.Millisecond)
		}
		return []byte(`"alive"`), nil
	}, activities.WithAutoHeartbeat(false))

	silent := h.task("Beat", "wf-silent")
	silent.HeartbeatTimeout = 200 * time.Millisecond
	h.publish(h.env.JetStream(), silent)
	r := h.next()
	var te *failure.TimeoutError
	if !errors.As(failconv.FromFailure(r.Failure), &te) || te.Kind != failure.TimeoutHeartbeat {
		t.Fatalf("failure = %#v", r.Failure)
	}

	beating := h.task("Beat", "wf-beating")
	beating.HeartbeatTimeout = 500 * time.Millisecond
	h.publish(h.env.JetStream(), beating)
	if r := h.next(); r.Failure != nil || string(r.Output) != `"alive"` {
		t.Fatalf("result = %+v, failure %v", r, r.Failure)
	}
}

// TestRunnerRedeliversAfterWorkerDies is the crash story: runner A starts a
// heartbeating activity and loses its connection abruptly mid-execution;
// JetStream redelivers the task after AckWait to runner B, which completes
// it. Only B's result is recorded, and it tells that the attempt was
// delivered twice.
func TestRunnerRedeliversAfterWorkerDies(t *testing.T) {
	h := newHarness(t)
	const ackWait = time.Second

	ncA := h.env.NewConn(t)
	jsA, err := jetstream.New(ncA)
	if err != nil {
		t.Fatal(err)
	}
	startedA := make(chan struct{})
	var once sync.Once
	a := h.start(jsA, "Beat", func(ctx context.Context, _ *activities.Task) ([]byte, error) {
		once.Do(func() { close(startedA) })
		for {
			_ = activities.RecordHeartbeat(ctx) // fails once the connection is gone
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}, activities.WithAckWait(ackWait), activities.WithAutoHeartbeat(false), activities.WithShutdownGrace(100*time.Millisecond))

	task := h.task("Beat", "wf-crash")
	task.HeartbeatTimeout = ackWait
	h.publish(h.env.JetStream(), task)
	select {
	case <-startedA:
	case <-time.After(waitResult):
		t.Fatal("runner A never started the task")
	}
	ncA.Close() // the crash
	if err := a.wait(t); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("runner A stopped with %v, want %v", err, nats.ErrConnectionClosed)
	}

	h.start(h.env.JetStream(), "Beat", func(ctx context.Context, task *activities.Task) ([]byte, error) {
		if err := activities.RecordHeartbeat(ctx); err != nil {
			return nil, err
		}
		return json.Marshal(task.Deliveries)
	}, activities.WithAckWait(ackWait), activities.WithAutoHeartbeat(false))

	r := h.next()
	if r.Failure != nil {
		t.Fatalf("failed: %v", r.Failure)
	}
	if r.Deliveries != 2 || string(r.Output) != "2" || r.Attempt != 1 {
		t.Fatalf("result = %+v (output %s), want deliveries 2 of attempt 1", r, r.Output)
	}
	h.noMore(500 * time.Millisecond)
	h.waitTasksDrained()
}

// TestRunnerShutdownHandsTasksBack: a handler that outlives the shutdown
// grace period is abandoned and its task NAKed, so another runner takes it
// over at once instead of after AckWait.
func TestRunnerShutdownHandsTasksBack(t *testing.T) {
	h := newHarness(t)
	started := make(chan struct{})
	testOver := make(chan struct{})
	t.Cleanup(func() { close(testOver) })
	var once sync.Once
	a := h.start(h.env.JetStream(), "Stuck", func(context.Context, *activities.Task) ([]byte, error) {
		once.Do(func() { close(started) })
		<-testOver // ignores its context
		return nil, nil
	}, activities.WithAckWait(time.Minute), activities.WithShutdownGrace(100*time.Millisecond))

	h.publish(h.env.JetStream(), h.task("Stuck", "wf-stuck"))
	select {
	case <-started:
	case <-time.After(waitResult):
		t.Fatal("task never started")
	}
	if err := a.stop(t); err != nil {
		t.Fatalf("Run returned %v after a shutdown", err)
	}

	h.start(h.env.JetStream(), "Stuck", func(_ context.Context, task *activities.Task) ([]byte, error) {
		return json.Marshal(task.Deliveries)
	}, activities.WithAckWait(time.Minute))
	// With AckWait at a minute, a result within waitResult proves the NAK.
	if r := h.next(); r.Failure != nil || r.Deliveries != 2 {
		t.Fatalf("result = %+v, failure %v", r, r.Failure)
	}
}

// TestRunnerSurvivesServerRestart: a handler finishes while the server is
// down; its result is published once the server is back, and the pull
// consumer resumes serving new tasks.
func TestRunnerSurvivesServerRestart(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	started := make(chan string, 2)
	returned := make(chan struct{})
	h.start(h.env.JetStream(), "Durable", func(_ context.Context, task *activities.Task) ([]byte, error) {
		started <- task.WorkflowID
		if task.WorkflowID == "wf-before" {
			<-release
			defer close(returned)
		}
		return []byte(`"` + task.WorkflowID + `"`), nil
	})

	h.publish(h.env.JetStream(), h.task("Durable", "wf-before"))
	if id := <-started; id != "wf-before" {
		t.Fatalf("started %s", id)
	}
	// Restart in two steps so that the handler completes, and the runner
	// tries to publish its result, while the server is down.
	h.env.StopServer(t)
	close(release)
	<-returned
	time.Sleep(200 * time.Millisecond) // let the runner try, and fail, to publish
	h.env.StartServer(t)

	if r := h.next(); r.Failure != nil || string(r.Output) != `"wf-before"` {
		t.Fatalf("in-flight result = %+v, failure %v", r, r.Failure)
	}
	h.waitTasksDrained()

	// A plain restart while idle: the pull consumer resumes.
	h.env.Restart(t)
	h.publish(h.env.JetStream(), h.task("Durable", "wf-after"))
	if r := h.next(); r.Failure != nil || string(r.Output) != `"wf-after"` {
		t.Fatalf("result after restart = %+v, failure %v", r, r.Failure)
	}
	h.waitTasksDrained()
}

func TestRunnerTerminatesMalformedTasks(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int32
	h.start(h.env.JetStream(), "Strict", func(_ context.Context, task *activities.Task) ([]byte, error) {
		calls.Add(1)
		return []byte(`"ok"`), nil
	})
	subject := h.names.TaskSubject(testQueue, "Strict")
	bad := activities.NewTaskMsg(subject, h.task("Strict", "wf-bad"))
	bad.Header.Del(activities.HeaderAttempt)
	h.publishMsg(h.env.JetStream(), bad)
	h.publishMsg(h.env.JetStream(), &nats.Msg{Subject: subject, Data: []byte("no headers at all")})
	wrongType := h.task("Strict", "wf-wrong-type")
	wrongType.ActivityType = "Other"
	h.publishMsg(h.env.JetStream(), activities.NewTaskMsg(subject, wrongType))

	h.publish(h.env.JetStream(), h.task("Strict", "wf-good"))
	if r := h.next(); r.Run != "run-wf-good" || r.Failure != nil {
		t.Fatalf("result = %+v", r)
	}
	h.waitTasksDrained()
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
	h.noMore(200 * time.Millisecond)
}

func TestRunnerBoundsConcurrency(t *testing.T) {
	h := newHarness(t)
	const limit, tasks = 2, 8
	var running, peak atomic.Int32
	h.start(h.env.JetStream(), "Bounded", func(context.Context, *activities.Task) ([]byte, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		return nil, nil
	}, activities.WithConcurrency(limit))

	for i := range tasks {
		h.publish(h.env.JetStream(), h.task("Bounded", fmt.Sprintf("wf-%d", i)))
	}
	for range tasks {
		if r := h.next(); r.Failure != nil {
			t.Fatalf("failed: %v", r.Failure)
		}
	}
	if p := peak.Load(); p > limit {
		t.Fatalf("%d handlers ran at once, limit %d", p, limit)
	}
}

func TestRunnerRejectsInvalidConfig(t *testing.T) {
	h := newHarness(t)
	noop := func(context.Context, *activities.Task) ([]byte, error) { return nil, nil }
	for name, r := range map[string]*activities.Runner{
		"bad queue":     activities.NewRunner(h.env.JetStream(), h.names, "bad.queue", "T", noop),
		"nil handler":   activities.NewRunner(h.env.JetStream(), h.names, testQueue, "T", nil),
		"empty type":    activities.NewRunner(h.env.JetStream(), h.names, testQueue, "", noop),
		"nil jetstream": activities.NewRunner(nil, h.names, testQueue, "T", noop),
	} {
		if err := r.Run(t.Context()); err == nil {
			t.Errorf("%s: Run succeeded", name)
		}
	}
}

// TestRunnerAutoHeartbeatPreventsRedelivery: a handler that runs for
// several AckWaits without heartbeating itself is kept alive by the
// runner's in-progress acks, so its task is never redelivered.
func TestRunnerAutoHeartbeatPreventsRedelivery(t *testing.T) {
	h := newHarness(t)
	const ackWait = time.Second
	var calls atomic.Int32
	h.start(h.env.JetStream(), "Long", func(_ context.Context, task *activities.Task) ([]byte, error) {
		calls.Add(1)
		time.Sleep(3 * ackWait)
		return json.Marshal(task.Deliveries)
	}, activities.WithAckWait(ackWait))
	h.publish(h.env.JetStream(), h.task("Long", "wf-long"))

	if r := h.next(); r.Failure != nil || r.Deliveries != 1 {
		t.Fatalf("result = %+v, failure %v", r, r.Failure)
	}
	h.noMore(500 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
}

// TestRunnerRefusesForeignDestinations: a task whose reply or attempt
// timer is not the subject the engine derives for the attempt it names
// (another workflow's history or inbox, another namespace, a subject
// outside cairn) is terminated unrun: a worker never publishes where a
// message tells it to without that check.
func TestRunnerRefusesForeignDestinations(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int32
	h.start(h.env.JetStream(), "Careful", func(_ context.Context, task *activities.Task) ([]byte, error) {
		calls.Add(1)
		return []byte(`"ok"`), nil
	})
	subject := h.names.TaskSubject(testQueue, "Careful")
	forged := func(id string, change func(t *activities.Task)) {
		task := h.task("Careful", id)
		change(task)
		h.publishMsg(h.env.JetStream(), activities.NewTaskMsg(subject, task))
	}
	forged("wf-history", func(t *activities.Task) { t.Reply = h.names.HistorySubject("wf-victim") })
	forged("wf-other-inbox", func(t *activities.Task) { t.Reply = h.names.ActivityInboxSubject(testQueue, "wf-victim") })
	forged("wf-client-subject", func(t *activities.Task) { t.Reply = h.names.ClientInboxSubject(testQueue, "wf-client-subject") })
	forged("wf-other-ns", func(t *activities.Task) {
		t.Namespace = "elsewhere"
		t.Reply = streams.NewNames("elsewhere").InboxSubject(testQueue, "wf-other-ns")
	})
	forged("wf-outside", func(t *activities.Task) { t.Reply = "orders.shipped" })
	forged("wf-timer", func(t *activities.Task) {
		t.AttemptTimer = h.names.AttemptTimerSubject("wf-victim", t.Run, t.ActivityID, t.Attempt)
	})
	forged("wf-timer-attempt", func(t *activities.Task) {
		t.AttemptTimer = h.names.AttemptTimerSubject(t.WorkflowID, t.Run, t.ActivityID, t.Attempt+1)
	})

	good := h.task("Careful", "wf-good")
	good.StartToClose = time.Minute
	good.AttemptTimer = h.names.AttemptTimerSubject(good.WorkflowID, good.Run, good.ActivityID, good.Attempt)
	h.publish(h.env.JetStream(), good)
	if r := h.next(); r.Run != "run-wf-good" || r.Failure != nil {
		t.Fatalf("result = %+v", r)
	}
	// A task of an engine before sender subjects and the attempt prefix
	// names the older forms of both: still the attempt's own.
	legacy := h.task("Careful", "wf-legacy")
	legacy.StartToClose = time.Minute
	legacy.Reply = h.names.InboxSubject(testQueue, legacy.WorkflowID)
	legacy.AttemptTimer = h.names.LegacyAttemptTimerSubject(legacy.WorkflowID, legacy.Run, legacy.ActivityID, legacy.Attempt)
	h.publish(h.env.JetStream(), legacy)
	if r := h.next(); r.Run != "run-wf-legacy" || r.Failure != nil {
		t.Fatalf("legacy result = %+v", r)
	}
	h.waitTasksDrained()
	if n := calls.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2 (the forged tasks ran)", n)
	}
	h.noMore(200 * time.Millisecond)
	// Nothing reached the history stream.
	s, err := h.env.JetStream().Stream(t.Context(), h.names.HistoryStream())
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(t.Context()); err != nil || info.State.Msgs != 0 {
		t.Fatalf("history stream: %+v, %v; want it empty", info.State, err)
	}
}

// TestRunnerDeadLettersUnsupportedProtocolAfterPatience: a task of a
// protocol version no worker speaks is handed back for another worker
// (a newer one may be deployed) until it has been offered the set number
// of times (an hour, by default), then moved to the dead letters unrun.
func TestRunnerDeadLettersUnsupportedProtocolAfterPatience(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int32
	h.start(h.env.JetStream(), "Future", func(context.Context, *activities.Task) ([]byte, error) {
		calls.Add(1)
		return []byte(`"ran"`), nil
	}, activities.WithUnsupportedPatience(50*time.Millisecond, 3))
	msg := activities.NewTaskMsg(h.names.TaskSubject(testQueue, "Future"), h.task("Future", "wf-future"))
	msg.Header.Set(activities.HeaderProtocol, "99")
	h.publishMsg(h.env.JetStream(), msg)
	h.waitTasksDrained()
	dead, err := h.env.JetStream().Stream(t.Context(), h.names.DeadLetterStream())
	if err != nil {
		t.Fatal(err)
	}
	m, err := dead.GetLastMsgForSubject(t.Context(), h.names.DeadLetterSubject("tasks"))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Header.Get(streams.HeaderDeadReason); !strings.Contains(r, "protocol") {
		t.Fatalf("dead letter reason %q", r)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the handler ran %d times", n)
	}
	h.noMore(100 * time.Millisecond)
}
