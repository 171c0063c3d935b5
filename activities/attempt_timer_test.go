package activities_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// timedTask is a task of activityType whose attempt is timed by the engine:
// it names an attempt timer in the harness's namespace.
func (h *harness) timedTask(activityType, workflowID string) *activities.Task {
	t := h.task(activityType, workflowID)
	t.AttemptTimer = strings.TrimSuffix(h.names.TimerInstanceFilter(workflowID), ">") + t.Run + ".h1.1"
	return t
}

// lastOn is the last message on an attempt timer's subject, nil if there
// is none. Handlers may call it.
func (h *harness) lastOn(subject string) (*jetstream.RawStreamMsg, error) {
	s, err := h.env.JetStream().Stream(h.t.Context(), h.names.InboxStream())
	if err != nil {
		return nil, err
	}
	m, err := s.GetLastMsgForSubject(h.t.Context(), subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	return m, err
}

// timerMsg is lastOn for the test's goroutine.
func (h *harness) timerMsg(subject string) *jetstream.RawStreamMsg {
	h.t.Helper()
	m, err := h.lastOn(subject)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// scheduledAt is when the schedule m fires.
func scheduledAt(t *testing.T, m *jetstream.RawStreamMsg) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(m.Header.Get(timers.HeaderSchedule), "@at "))
	if err != nil {
		t.Fatalf("schedule %q: %v", m.Header.Get(timers.HeaderSchedule), err)
	}
	return at
}

// nextTimeout waits for the next inbox message and requires it to be an
// attempt timeout.
func (h *harness) nextTimeout() *activities.AttemptTimeout {
	h.t.Helper()
	msg, err := h.results.Next(jetstream.FetchMaxWait(waitResult))
	if err != nil {
		h.t.Fatalf("no attempt timeout: %v", err)
	}
	_ = msg.Ack()
	a, err := activities.ParseAttemptTimeout(msg.Headers())
	if err != nil {
		h.t.Fatalf("not an attempt timeout: %v (%v)", err, msg.Headers())
	}
	return a
}

// TestRunnerArmsTheAttemptTimer: before the handler runs, the runner arms
// the attempt timer, due when the start-to-close timeout passes; the
// result purges it.
func TestRunnerArmsTheAttemptTimer(t *testing.T) {
	h := newHarness(t)
	task := h.timedTask("Timed", "wf-armed")
	task.StartToClose = time.Hour
	var armed *jetstream.RawStreamMsg
	h.start(h.env.JetStream(), "Timed", func(ctx context.Context, _ *activities.Task) ([]byte, error) {
		var err error
		armed, err = h.lastOn(task.AttemptTimer)
		if err != nil {
			return nil, err
		}
		return []byte(`"done"`), nil
	})
	before := time.Now()
	h.publish(h.env.JetStream(), task)
	if r := h.next(); r.Failure != nil || string(r.Output) != `"done"` {
		t.Fatalf("result %+v, failure %v", r, r.Failure)
	}
	if armed == nil {
		t.Fatal("the handler ran before the attempt timer was armed")
	}
	if at := scheduledAt(t, armed); at.Before(before.Add(time.Hour)) || at.After(time.Now().Add(time.Hour)) {
		t.Errorf("timer due %v, want pickup + 1h", at)
	}
	want := map[string]string{"Nats-Schedule-Target": task.Reply, "Cairn-Kind": activities.KindAttemptTimeout,
		"Cairn-Run": task.Run, "Cairn-Activity-Id": "1", "Cairn-Attempt": "1", "Cairn-Deliveries": "1",
		"Cairn-Timeout-Kind": failure.TimeoutStartToClose}
	for k, v := range want {
		if got := armed.Header.Get(k); got != v {
			t.Errorf("timer header %s = %q, want %q", k, got, v)
		}
	}
	if m := h.timerMsg(task.AttemptTimer); m != nil {
		t.Fatalf("the result left the attempt timer: %v", m.Header)
	}
	h.waitTasksDrained()
}

// TestRunnerHeartbeatsMoveTheAttemptTimer: an activity that heartbeats for
// many heartbeat timeouts is never timed out by the engine: its
// heartbeats keep moving the timer ahead.
func TestRunnerHeartbeatsMoveTheAttemptTimer(t *testing.T) {
	h := newHarness(t)
	const hb = 500 * time.Millisecond
	task := h.timedTask("Beat", "wf-beating")
	task.HeartbeatTimeout = hb
	var mu sync.Mutex
	var dues []time.Time
	h.start(h.env.JetStream(), "Beat", func(ctx context.Context, _ *activities.Task) ([]byte, error) {
		for end := time.Now().Add(6 * hb); time.Now().Before(end); {
			if err := activities.RecordHeartbeat(ctx); err != nil {
				return nil, err
			}
			m, err := h.lastOn(task.AttemptTimer)
			if err != nil {
				return nil, err
			}
			if m != nil {
				at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(m.Header.Get(timers.HeaderSchedule), "@at "))
				if err != nil {
					return nil, err
				}
				mu.Lock()
				dues = append(dues, at)
				mu.Unlock()
			}
			time.Sleep(hb / 10)
		}
		return []byte(`"alive"`), nil
	}, activities.WithAutoHeartbeat(false))
	h.publish(h.env.JetStream(), task)
	// The first inbox message is the result: the timer never fired.
	if r := h.next(); r.Failure != nil || string(r.Output) != `"alive"` {
		t.Fatalf("result %+v, failure %v", r, r.Failure)
	}
	mu.Lock()
	defer mu.Unlock()
	moves := 0
	for i := 1; i < len(dues); i++ {
		if dues[i].After(dues[i-1]) {
			moves++
		}
	}
	if moves < 3 {
		t.Fatalf("the timer moved %d times over 6 heartbeat timeouts (dues %v)", moves, dues)
	}
	h.noMore(2 * hb)
	if m := h.timerMsg(task.AttemptTimer); m != nil {
		t.Fatalf("the result left the attempt timer: %v", m.Header)
	}
}

// TestRunnerDeadWorkerIsTimedOutAndNotRerun is the story of a worker that
// dies mid-attempt: its attempt timer fires a heartbeat timeout long before
// the consumer's AckWait; once the engine has marked the attempt closed,
// the runner that is handed the dead worker's task acknowledges it without
// running it.
func TestRunnerDeadWorkerIsTimedOutAndNotRerun(t *testing.T) {
	h := newHarness(t)
	const hb = 300 * time.Millisecond
	const ackWait = 3 * time.Second // well above the heartbeat timeout

	ncA := h.env.NewConn(t)
	jsA, err := jetstream.New(ncA)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var once sync.Once
	a := h.start(jsA, "Beat", func(ctx context.Context, _ *activities.Task) ([]byte, error) {
		once.Do(func() { close(started) })
		for {
			_ = activities.RecordHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(hb / 5):
			}
		}
	}, activities.WithAckWait(ackWait), activities.WithAutoHeartbeat(false), activities.WithShutdownGrace(0))

	task := h.timedTask("Beat", "wf-dies")
	task.HeartbeatTimeout = hb
	h.publish(h.env.JetStream(), task)
	select {
	case <-started:
	case <-time.After(waitResult):
		t.Fatal("runner A never started the task")
	}
	died := time.Now()
	ncA.Close() // the crash
	if err := a.wait(t); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("runner A stopped with %v", err)
	}

	to := h.nextTimeout()
	if to.Kind != failure.TimeoutHeartbeat || to.Attempt != 1 || to.ActivityID != "1" || to.Run != task.Run || to.Deliveries != 1 {
		t.Fatalf("attempt timeout %+v", to)
	}
	if waited := time.Since(died); waited >= ackWait {
		t.Fatalf("timed out %v after the crash, not before the AckWait (%v)", waited, ackWait)
	}

	// The engine records the timeout and marks the attempt closed.
	h.publishMsg(h.env.JetStream(), activities.NewAttemptClosedMsg(task.AttemptTimer, task.Run, "1", 1))
	var calls atomic.Int32
	h.start(h.env.JetStream(), "Beat", func(context.Context, *activities.Task) ([]byte, error) {
		calls.Add(1)
		return nil, nil
	}, activities.WithAckWait(ackWait), activities.WithAutoHeartbeat(false))
	h.waitTasksDrained() // redelivered after the AckWait, and acknowledged
	if n := calls.Load(); n != 0 {
		t.Fatalf("the closed attempt ran %d times", n)
	}
	h.noMore(500 * time.Millisecond)
}

// TestRunnerResultOfAnAttemptClosedMeanwhile: when the engine closes the
// attempt while its worker still runs it, the result cannot purge the
// timer (its subject holds the engine's mark); it is stored all the same.
func TestRunnerResultOfAnAttemptClosedMeanwhile(t *testing.T) {
	h := newHarness(t)
	task := h.timedTask("Late", "wf-late")
	task.StartToClose = time.Hour
	h.start(h.env.JetStream(), "Late", func(ctx context.Context, _ *activities.Task) ([]byte, error) {
		if _, err := h.env.JetStream().PublishMsg(ctx, activities.NewAttemptClosedMsg(task.AttemptTimer, task.Run, "1", 1)); err != nil {
			return nil, err
		}
		return []byte(`"late"`), nil
	})
	h.publish(h.env.JetStream(), task)
	if r := h.next(); r.Failure != nil || string(r.Output) != `"late"` {
		t.Fatalf("result %+v, failure %v", r, r.Failure)
	}
	if m := h.timerMsg(task.AttemptTimer); m == nil || !activities.IsAttemptClosed(m.Header) {
		t.Fatalf("the engine's mark is gone: %v", m)
	}
	h.waitTasksDrained()
}

// TestRunnerRedeliveryWithALiveTimerRuns: a redelivered attempt whose timer
// is still armed (the first worker died before it fired) is run again.
func TestRunnerRedeliveryWithALiveTimerRuns(t *testing.T) {
	h := newHarness(t)
	const ackWait = time.Second
	task := h.timedTask("Again", "wf-again")
	task.StartToClose = time.Hour
	js := h.env.JetStream()
	ctx, cancel := context.WithTimeout(t.Context(), waitResult)
	defer cancel()
	cons, err := streams.EnsureActivityConsumer(ctx, js, h.names, testQueue, "Again", ackWait)
	if err != nil {
		t.Fatal(err)
	}
	h.publish(js, task)
	// A worker that takes the task, arms its timer and dies silently.
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(waitResult))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		_ = m // never acknowledged
	}
	h.publishMsg(js, activities.NewAttemptTimerMsg(task.AttemptTimer, task.Reply, time.Now().Add(time.Hour),
		&activities.AttemptTimeout{Run: task.Run, ActivityID: "1", Attempt: 1, Deliveries: 1, Kind: failure.TimeoutStartToClose}))

	h.start(js, "Again", func(_ context.Context, t *activities.Task) ([]byte, error) {
		return []byte(fmt.Sprint(t.Deliveries)), nil
	}, activities.WithAckWait(ackWait))
	if r := h.next(); r.Failure != nil || string(r.Output) != "2" {
		t.Fatalf("result %+v (output %s), failure %v", r, r.Output, r.Failure)
	}
	testutil.Eventually(t, waitResult, func() error {
		if m := h.timerMsg(task.AttemptTimer); m != nil {
			return fmt.Errorf("timer still there: %v", m.Header)
		}
		return nil
	})
}
