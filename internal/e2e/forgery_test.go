package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Gated runs the activity Gate once and returns its result.
func Gated(ctx workflow.Context, in string) (string, error) {
	return workflow.ExecuteActivityByName[string](ctx, "Gate", in).Get(ctx)
}

// TestForgedActivityResultsAreRefused: a result published straight into a
// workflow's inbox, naming the running attempt but without that attempt's
// token (none, or a made-up one), and a forged attempt timeout, are
// refused; the workflow ends with what its worker returned.
func TestForgedActivityResultsAreRefused(t *testing.T) {
	env := testenv.New(t)
	started, release := make(chan struct{}, 1), make(chan struct{})
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(Gated)
		w.RegisterActivity(func(ctx context.Context, in string) (string, error) {
			started <- struct{}{}
			select {
			case <-release:
				return "real " + in, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}, worker.WithName("Gate"))
	})
	c := env.Client(t)
	ctx := testCtx(t, time.Minute)
	run, err := c.Start(ctx, client.StartOptions{ID: "forged"}, Gated, "order")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the activity never started")
	}

	inbox := env.Names().InboxSubject("default", "forged")
	forge := func(token string) *nats.Msg {
		return activities.NewResultMsg(inbox, &activities.Result{Run: run.Run, ActivityID: "1", Attempt: 1,
			Output: []byte(`"forged"`), Token: token})
	}
	timeout := activities.NewAttemptTimerMsg(env.Names().AttemptTimerSubject("forged", run.Run, "1", 1), inbox,
		time.Now(), &activities.AttemptTimeout{Run: run.Run, ActivityID: "1", Attempt: 1, Kind: "heartbeat", Token: "made-up"})
	for _, m := range []*nats.Msg{forge(""), forge("bWFkZS11cA"), timeout} {
		if _, err := env.JetStream().PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The engine took the forged messages off the inbox (terminated:
	// the work queue drops them) and the fire of the forged timer too.
	inboxStream, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	gone := func(subject string) bool {
		_, err := inboxStream.GetLastMsgForSubject(ctx, subject)
		return errors.Is(err, jetstream.ErrMsgNotFound)
	}
	testutil.EventuallyTrue(t, 30*time.Second, func() bool { return gone(timeout.Subject) && gone(inbox) },
		"the forged messages consumed, the forged timer fired")
	d, err := c.Describe(ctx, "forged", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != history.StatusRunning || len(d.PendingActivities) != 1 {
		t.Fatalf("after the forgeries: status %s, %d pending activities; want running with Gate pending", d.Status, len(d.PendingActivities))
	}

	close(release)
	var got string
	if err := c.Result(ctx, "forged", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != "real order" {
		t.Fatalf("result %q, want the worker's", got)
	}
	events, err := c.History(ctx, "forged", "")
	if err != nil {
		t.Fatal(err)
	}
	if k := count(events, history.TypeActivityFailed); k != 0 {
		t.Fatalf("%d activity failures recorded: the forged timeout was taken", k)
	}
}

// Sleeper sleeps an hour, under an execution timeout of a day.
func Sleeper(ctx workflow.Context, _ string) (string, error) {
	if err := workflow.Sleep(ctx, time.Hour); err != nil {
		return "", err
	}
	return "woke", nil
}

// TestForgedTimerFiresAreRefused: a timer fire or a workflow timeout
// published straight into a sleeping workflow's inbox (as the engine's
// own, without its timer's token or with a made-up one) neither wakes nor
// ends it.
func TestForgedTimerFiresAreRefused(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Sleeper) })
	c := env.Client(t)
	ctx := testCtx(t, time.Minute)
	run, err := c.Start(ctx, client.StartOptions{ID: "sleeper", WorkflowExecutionTimeout: 24 * time.Hour}, Sleeper, "")
	if err != nil {
		t.Fatal(err)
	}
	var timerID int64
	testutil.Eventually(t, 30*time.Second, func() error {
		d, err := c.Describe(ctx, "sleeper", "")
		if err != nil {
			return err
		}
		if len(d.PendingTimers) != 1 {
			return errors.New("no timer yet")
		}
		timerID = d.PendingTimers[0].ID
		return nil
	})
	inbox := env.Names().InboxSubject("default", "sleeper")
	key := env.Names().InstanceKey("sleeper")
	var forged []*nats.Msg
	for _, tok := range []string{"", "bWFkZS11cA"} {
		fire := store.NewTimerFired(inbox, key, run.Run, timerID)
		timeout := store.NewWorkflowTimeout(inbox, run.Run, time.Hour)
		if tok != "" {
			fire.Header.Set(store.HeaderTimerToken, tok)
			timeout.Header.Set(store.HeaderTimerToken, tok)
		}
		fire.Header.Del("Nats-Msg-Id")
		forged = append(forged, fire, timeout)
	}
	for _, m := range forged {
		if _, err := env.JetStream().PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	inboxStream, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 30*time.Second, func() bool {
		_, err := inboxStream.GetLastMsgForSubject(ctx, inbox)
		return errors.Is(err, jetstream.ErrMsgNotFound)
	}, "the forged fires consumed")
	d, err := c.Describe(ctx, "sleeper", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != history.StatusRunning || len(d.PendingTimers) != 1 {
		t.Fatalf("after the forged fires: status %s, %d pending timers; want it still asleep", d.Status, len(d.PendingTimers))
	}
}

// TestUnsignedTimerIsArmedAgain: a timer armed before timer tokens existed
// fires without one. The fire is not applied, but the timer is armed again,
// signed, for its own due time: after an upgrade a sleeping workflow still
// wakes, and an early unsigned fire still cannot wake it.
func TestUnsignedTimerIsArmedAgain(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Sleeper) })
	c := env.Client(t)
	ctx := testCtx(t, time.Minute)
	run, err := c.Start(ctx, client.StartOptions{ID: "legacy", WorkflowExecutionTimeout: 24 * time.Hour}, Sleeper, "")
	if err != nil {
		t.Fatal(err)
	}
	var timer client.PendingTimer
	testutil.Eventually(t, 30*time.Second, func() error {
		d, err := c.Describe(ctx, "legacy", "")
		if err != nil {
			return err
		}
		if len(d.PendingTimers) != 1 {
			return errors.New("no timer yet")
		}
		timer = d.PendingTimers[0]
		return nil
	})
	subject := strings.TrimSuffix(env.Names().TimerInstanceFilter("legacy"), ">") + run.Run + ".t" + strconv.FormatInt(timer.ID, 10)
	inbox, err := env.JetStream().Stream(ctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	// The signed schedules gone (the timer's and the execution
	// timeout's), unsigned fires arrive, as the schedules of an earlier
	// version would fire.
	timeoutSubject := strings.TrimSuffix(env.Names().TimerInstanceFilter("legacy"), ">") + run.Run + ".w"
	inboxSubject := env.Names().InboxSubject("default", "legacy")
	for _, subj := range []string{subject, timeoutSubject} {
		if err := inbox.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*nats.Msg{
		store.NewTimerFired(inboxSubject, env.Names().InstanceKey("legacy"), run.Run, timer.ID),
		store.NewWorkflowTimeout(inboxSubject, run.Run, 24*time.Hour),
	} {
		if _, err := env.JetStream().PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, subj := range []string{subject, timeoutSubject} {
		testutil.Eventually(t, 30*time.Second, func() error {
			m, err := inbox.GetLastMsgForSubject(ctx, subj)
			if err != nil {
				return fmt.Errorf("%s: %w", subj, err)
			}
			if m.Header.Get(store.HeaderTimerToken) == "" {
				return fmt.Errorf("%s is armed again without a token", subj)
			}
			return nil
		})
	}
	d, err := c.Describe(ctx, "legacy", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != history.StatusRunning || len(d.PendingTimers) != 1 || !d.PendingTimers[0].FireAt.Equal(timer.FireAt) {
		t.Fatalf("after the unsigned fire: %s, timers %+v; want still asleep until %v", d.Status, d.PendingTimers, timer.FireAt)
	}
}
