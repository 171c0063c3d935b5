package orchestrator

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/failure"
)

// TestItemOf parses inbox messages as the store's constructors build them,
// without a server.
func TestItemOf(t *testing.T) {
	start := history.Batch{ev(1, history.TypeWorkflowStarted, &history.WorkflowStarted{WorkflowID: testID, Run: "r2", TaskQueue: "q"})}
	wake, err := store.NewStartWake(testInbox, "order=2F1", "r2", 42, start)
	if err != nil {
		t.Fatal(err)
	}
	reset := nats.NewMsg(testInbox)
	reset.Header.Set(store.HeaderKind, store.KindReset)
	reset.Header.Set(store.HeaderRun, "r3")

	cases := []struct {
		name      string
		msg       *nats.Msg
		delivered uint64
		check     func(t *testing.T, it *item)
	}{{
		name: "timer fired", msg: store.NewTimerFired(testInbox, "order=2F1", testRun, 5), delivered: 1,
		check: func(t *testing.T, it *item) {
			a, ok := it.ev.Attributes.(*history.TimerFired)
			if it.kind != kindTimerFired || it.run != testRun || !ok || a.ID != 5 || it.redelivered {
				t.Errorf("item %+v", it)
			}
		},
	}, {
		name: "start wake", msg: wake, delivered: 2,
		check: func(t *testing.T, it *item) {
			if it.kind != kindStart || it.run != "r2" || it.expectedSeq != 42 || len(it.start) != 1 || it.ev != nil || !it.redelivered {
				t.Errorf("item %+v", it)
			}
		},
	}, {
		name: "terminated wake", msg: store.NewTerminated(testInbox, "order=2F1", testRun),
		check: func(t *testing.T, it *item) {
			if it.kind != kindTerminated || it.run != testRun || it.ev != nil || it.redelivered {
				t.Errorf("item %+v", it)
			}
		},
	}, {
		name: "reset wake", msg: reset, delivered: 1,
		check: func(t *testing.T, it *item) {
			if it.kind != kindReset || it.run != "r3" || it.ev != nil || !it.published.Equal(t0) {
				t.Errorf("item %+v", it)
			}
		},
	}, {
		name: "cancel", msg: store.NewCancel(testInbox, "order=2F1", testRun, "enough"), delivered: 3,
		check: func(t *testing.T, it *item) {
			a, ok := it.ev.Attributes.(*history.WorkflowCancelRequested)
			if !ok || a.Reason != "enough" || !it.redelivered {
				t.Errorf("item %+v", it)
			}
		},
	}, {
		name: "attempt timeout", msg: activities.NewAttemptTimerMsg("cairn.ns.timer.order=2F1.r1.h3.2", testInbox, t0,
			&activities.AttemptTimeout{Run: testRun, ActivityID: "3", Attempt: 2, Deliveries: 1, Kind: "heartbeat"}),
		delivered: 1,
		check: func(t *testing.T, it *item) {
			a, ok := it.ev.Attributes.(*history.ActivityFailed)
			if it.kind != store.KindAttemptTimeout || it.run != testRun || !ok || a.ID != 3 || a.Attempt != 2 || a.Deliveries != 1 {
				t.Fatalf("item %+v, event %+v", it, it.ev.Attributes)
			}
			var te *failure.TimeoutError
			if err := failconv.FromFailure(a.Failure); !errors.As(err, &te) || te.Kind != failure.TimeoutHeartbeat ||
				!failconv.IsRetryable(a.Failure, nil) {
				t.Errorf("failure %+v", a.Failure)
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it, err := itemOf(tc.msg.Header, tc.msg.Data, tc.delivered, t0)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, it)
		})
	}

	badTimeout := activities.NewAttemptTimerMsg("s", testInbox, t0,
		&activities.AttemptTimeout{Run: testRun, ActivityID: "3", Attempt: 2, Kind: "schedule-to-close"})
	if _, err := itemOf(badTimeout.Header, nil, 1, time.Time{}); err == nil {
		t.Error("an attempt timeout of kind schedule-to-close parsed")
	}
	bad := nats.NewMsg(testInbox)
	bad.Header.Set(store.HeaderKind, "nonsense")
	if _, err := itemOf(bad.Header, nil, 1, time.Time{}); err == nil {
		t.Error("a message of an unknown kind parsed")
	}
	badStart := nats.NewMsg(testInbox)
	badStart.Header.Set(store.HeaderKind, store.KindStart)
	badStart.Data = []byte(`[]`)
	if _, err := itemOf(badStart.Header, badStart.Data, 1, time.Time{}); err == nil {
		t.Error("a start wake without a start batch parsed")
	}
}
