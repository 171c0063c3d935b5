package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
)

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// checkHistory asserts the invariants every history must hold: dense
// sequences, one start, at most one close (last), each activity and timer
// closed at most once.
func checkHistory(t *testing.T, c *client.Client, id string) []*history.Event {
	t.Helper()
	events, err := c.History(context.Background(), id, "")
	if err != nil {
		t.Fatalf("history of %s: %v", id, err)
	}
	closedActs := map[int64]int{}
	firedTimers := map[int64]int{}
	scheduled := map[int64]bool{}
	for i, ev := range events {
		if ev.Seq != int64(i+1) {
			t.Fatalf("%s: event %d has seq %d", id, i+1, ev.Seq)
		}
		if ev.IsClose() && i != len(events)-1 {
			t.Fatalf("%s: close event %s is not last", id, ev.Type)
		}
		switch a := ev.Attributes.(type) {
		case *history.WorkflowStarted:
			if i != 0 {
				t.Fatalf("%s: second WorkflowStarted at %d", id, ev.Seq)
			}
		case *history.ActivityScheduled:
			if scheduled[a.ID] {
				t.Fatalf("%s: activity %d scheduled twice", id, a.ID)
			}
			scheduled[a.ID] = true
		case *history.ActivityCompleted:
			closedActs[a.ID]++
		case *history.ActivityFailed:
			closedActs[a.ID]++
		case *history.TimerFired:
			firedTimers[a.ID]++
		}
	}
	for id2, n := range closedActs {
		if n != 1 {
			t.Fatalf("%s: activity %d closed %d times", id, id2, n)
		}
	}
	for id2, n := range firedTimers {
		if n != 1 {
			t.Fatalf("%s: timer %d fired %d times", id, id2, n)
		}
	}
	return events
}

func count(events []*history.Event, typ history.EventType) int {
	n := 0
	for _, ev := range events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func jetstreamSubjects(filter string) jetstream.StreamInfoOpt {
	return jetstream.WithSubjectFilter(filter)
}
