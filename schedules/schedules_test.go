package schedules_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/schedules"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// waitTimeout bounds every wait; generous, the machine is shared.
const waitTimeout = 90 * time.Second

// Gate runs until it receives the event "finish".
func Gate(ctx workflow.Context, _ string) (string, error) {
	_, err := workflow.ReceiveSignal[string](ctx, "finish")
	return "done", err
}

// Quick returns at once.
func Quick(ctx workflow.Context, _ string) (string, error) { return "done", nil }

func register(w *worker.Worker) {
	w.RegisterWorkflow(Gate)
	w.RegisterWorkflow(Quick)
}

func setup(t *testing.T) (*testenv.Env, *client.Client, *testenv.Worker) {
	t.Helper()
	env := testenv.New(t)
	w := env.StartWorker(t, "default", register)
	return env, env.Client(t), w
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// waitState polls the schedule until cond holds.
func waitState(t *testing.T, c *client.Client, id, what string, cond func(*client.ScheduleDescription) bool) *client.ScheduleDescription {
	t.Helper()
	var last *client.ScheduleDescription
	testutil.Eventually(t, waitTimeout, func() error {
		d, err := c.DescribeSchedule(ctx(t), id)
		if err != nil {
			return err
		}
		last = d
		if !cond(d) {
			b, _ := json.MarshalIndent(d, "", "  ")
			return fmt.Errorf("schedule %q: no %s yet; state:\n%s", id, what, b)
		}
		return nil
	})
	return last
}

func waitClosed(t *testing.T, c *client.Client, wid string) *client.Description {
	t.Helper()
	var d *client.Description
	testutil.Eventually(t, waitTimeout, func() error {
		var err error
		if d, err = c.Describe(ctx(t), wid, ""); err != nil {
			return err
		}
		if d.Status == history.StatusRunning {
			return fmt.Errorf("workflow %q is still running", wid)
		}
		return nil
	})
	return d
}

// waitExists waits for a run the schedule's state records: the state is
// written before the start is made.
func waitExists(t *testing.T, c *client.Client, wid string) {
	t.Helper()
	testutil.Eventually(t, waitTimeout, func() error {
		_, err := c.Describe(ctx(t), wid, "")
		return err
	})
}

func startedIDs(d *client.ScheduleDescription) []string {
	var ids []string
	for _, o := range d.State.Recent {
		if o.Result == schedules.OutcomeStarted {
			ids = append(ids, o.WorkflowID)
		}
	}
	return ids
}

// TestScheduleSkipOverlap: an @every 1s schedule whose runs last several
// fires starts three runs, one after the other, and skips (observably) the
// fires that come while one runs.
func TestScheduleSkipOverlap(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	if _, err := c.CreateSchedule(ctx(t), client.ScheduleOptions{ID: "skip", Spec: "@every 1s", Workflow: Gate, Input: "x",
		Overlap: client.OverlapSkip}); err != nil {
		t.Fatal(err)
	}
	var prevClose time.Time
	var skips int64
	for k := int64(1); k <= 3; k++ {
		d := waitState(t, c, "skip", fmt.Sprintf("start %d and a skip", k), func(d *client.ScheduleDescription) bool {
			return d.State.Starts == k && d.State.Skips > skips
		})
		skips = d.State.Skips
		wid := d.State.Running
		waitExists(t, c, wid)
		run, err := c.Describe(ctx(t), wid, "")
		if err != nil {
			t.Fatal(err)
		}
		if run.StartTime.Before(prevClose) {
			t.Fatalf("run %d (%s) started at %v, before run %d closed at %v", k, wid, run.StartTime, k-1, prevClose)
		}
		if err := c.Signal(ctx(t), wid, "", "finish", "now"); err != nil {
			t.Fatal(err)
		}
		prevClose = waitClosed(t, c, wid).CloseTime
	}
	d, _ := c.DescribeSchedule(ctx(t), "skip")
	var sawSkip bool
	for _, o := range d.State.Recent {
		sawSkip = sawSkip || o.Result == schedules.OutcomeSkipped
	}
	if !sawSkip || d.State.Skips < 3 {
		t.Fatalf("skips not observable: %+v", d.State)
	}
	if err := c.DeleteSchedule(ctx(t), "skip"); err != nil {
		t.Fatal(err)
	}
}

// TestScheduleBufferOne: a fire that comes while the previous run runs is
// buffered and starts when that run closes; later fires are skipped.
func TestScheduleBufferOne(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	if _, err := c.CreateSchedule(ctx(t), client.ScheduleOptions{ID: "buf", Spec: "@every 1s", Workflow: Gate,
		Overlap: client.OverlapBufferOne}); err != nil {
		t.Fatal(err)
	}
	d := waitState(t, c, "buf", "a buffered fire and a skip", func(d *client.ScheduleDescription) bool {
		return d.State.Starts == 1 && d.State.Buffered != nil && d.State.Skips >= 1
	})
	first, buffered := d.State.Running, *d.State.Buffered
	if err := c.Signal(ctx(t), first, "", "finish", "now"); err != nil {
		t.Fatal(err)
	}
	want := d.WorkflowID(buffered)
	d = waitState(t, c, "buf", "the buffered start", func(d *client.ScheduleDescription) bool { return d.State.Starts >= 2 })
	if ids := startedIDs(d); len(ids) < 2 || ids[1] != want {
		t.Fatalf("second start %v, want the buffered fire %s", ids, want)
	}
	waitExists(t, c, want)
	if err := c.DeleteSchedule(ctx(t), "buf"); err != nil {
		t.Fatal(err)
	}
}

// TestScheduleAllowAll: every fire starts a run, however many run.
func TestScheduleAllowAll(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	if _, err := c.CreateSchedule(ctx(t), client.ScheduleOptions{ID: "all", Spec: "@every 1s", Workflow: Gate,
		Overlap: client.OverlapAllowAll, CatchUp: client.CatchUpAll}); err != nil {
		t.Fatal(err)
	}
	d := waitState(t, c, "all", "three starts", func(d *client.ScheduleDescription) bool { return d.State.Starts >= 3 })
	if err := c.PauseSchedule(ctx(t), "all", "enough"); err != nil {
		t.Fatal(err)
	}
	ids := startedIDs(d)
	running := 0
	for _, id := range ids {
		waitExists(t, c, id)
		if r, err := c.Describe(ctx(t), id, ""); err == nil && r.Status == history.StatusRunning {
			running++
		}
	}
	if running < 3 || d.State.Skips != 0 {
		t.Fatalf("%d of %v running, %d skips; want 3 running at once and no skip", running, ids, d.State.Skips)
	}
}

// TestSchedulePauseUnpauseDelete: a paused schedule starts nothing and
// does not catch up its paused time; a deleted one is gone.
func TestSchedulePauseUnpauseDelete(t *testing.T) {
	t.Parallel()
	env, c, _ := setup(t)
	if _, err := c.CreateSchedule(ctx(t), client.ScheduleOptions{ID: "p", Spec: "@every 1s", Workflow: Quick,
		Overlap: client.OverlapAllowAll, CatchUp: client.CatchUpAll}); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "p", "a start", func(d *client.ScheduleDescription) bool { return d.State.Starts >= 1 })
	if err := c.PauseSchedule(ctx(t), "p", "maintenance"); err != nil {
		t.Fatal(err)
	}
	if hasMsg(t, env, env.Names().ScheduleSubject("p")) {
		t.Fatal("schedule message still stored after pause")
	}
	time.Sleep(1500 * time.Millisecond) // a fire in flight lands
	before, _ := c.DescribeSchedule(ctx(t), "p")
	if !before.Paused || before.Note != "maintenance" || !before.NextFire(time.Now()).IsZero() {
		t.Fatalf("paused schedule described as %+v", before)
	}
	time.Sleep(3 * time.Second)
	after, _ := c.DescribeSchedule(ctx(t), "p")
	if after.State.Starts != before.State.Starts {
		t.Fatalf("paused schedule started runs: %d -> %d", before.State.Starts, after.State.Starts)
	}
	if err := c.UnpauseSchedule(ctx(t), "p", ""); err != nil {
		t.Fatal(err)
	}
	d := waitState(t, c, "p", "a start after unpause", func(d *client.ScheduleDescription) bool { return d.State.Starts > after.State.Starts })
	if d.State.Missed != before.State.Missed || d.State.Starts > after.State.Starts+3 {
		t.Fatalf("paused time was caught up: %+v", d.State)
	}

	list, err := c.ListSchedules(ctx(t))
	if err != nil || len(list) != 1 || list[0].ID != "p" {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := c.DeleteSchedule(ctx(t), "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeSchedule(ctx(t), "p"); !errors.Is(err, client.ErrScheduleNotFound) {
		t.Fatalf("describe after delete: %v", err)
	}
	if err := c.DeleteSchedule(ctx(t), "p"); !errors.Is(err, client.ErrScheduleNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if hasMsg(t, env, env.Names().ScheduleSubject("p")) {
		t.Fatal("schedule message still stored after delete")
	}
	if list, _ := c.ListSchedules(ctx(t)); len(list) != 0 {
		t.Fatalf("list after delete: %v", list)
	}
}

func hasMsg(t *testing.T, env *testenv.Env, subject string) bool {
	t.Helper()
	s, err := env.JetStream().Stream(ctx(t), env.Names().SchedulesStream())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GetLastMsgForSubject(ctx(t), subject)
	return err == nil
}

// TestScheduleCatchUpAllAfterServerRestart: fire times missed while the
// server was down are all started when it is back (CatchUpAll).
func TestScheduleCatchUpAllAfterServerRestart(t *testing.T) {
	t.Parallel()
	env, c, _ := setup(t)
	if _, err := c.CreateSchedule(ctx(t), client.ScheduleOptions{ID: "cu", Spec: "@every 1s", Workflow: Quick,
		Overlap: client.OverlapAllowAll, CatchUp: client.CatchUpAll}); err != nil {
		t.Fatal(err)
	}
	d := waitState(t, c, "cu", "two starts", func(d *client.ScheduleDescription) bool { return d.State.Starts >= 2 })
	lastBefore := d.State.LastFire
	env.StopServer(t)
	time.Sleep(4 * time.Second)
	env.StartServer(t)
	d = waitState(t, c, "cu", "the catch-up", func(d *client.ScheduleDescription) bool {
		return d.State.LastFire.Sub(lastBefore) >= 5*time.Second
	})
	// Every second from before the outage to the latest fire has its run.
	for ts := lastBefore; !ts.After(d.State.LastFire); ts = ts.Add(time.Second) {
		waitExists(t, c, d.WorkflowID(ts))
	}
	if d.State.Missed != 0 {
		t.Fatalf("missed %d with catch-up all", d.State.Missed)
	}
}

// TestScheduleCatchUpLatestAfterRunnerOutage: fires queued while no runner
// was up are superseded by the newest one: one run for the gap.
func TestScheduleCatchUpLatestAfterRunnerOutage(t *testing.T) {
	t.Parallel()
	env, c, w := setup(t)
	if _, err := c.CreateSchedule(ctx(t), client.ScheduleOptions{ID: "late", Spec: "@every 1s", Workflow: Quick,
		Overlap: client.OverlapAllowAll}); err != nil {
		t.Fatal(err)
	}
	d := waitState(t, c, "late", "a start", func(d *client.ScheduleDescription) bool { return d.State.Starts >= 1 })
	w.Stop()
	time.Sleep(4 * time.Second)
	stopped, _ := c.DescribeSchedule(ctx(t), "late")
	env.StartWorker(t, "default", register)
	d = waitState(t, c, "late", "queued fires processed", func(d *client.ScheduleDescription) bool { return d.State.Missed >= 2 })
	for _, o := range d.State.Recent {
		if o.Result != schedules.OutcomeMissed {
			continue
		}
		if !o.Fire.After(stopped.State.LastFire) {
			t.Fatalf("missed fire %v predates the outage", o.Fire)
		}
		if _, err := c.Describe(ctx(t), d.WorkflowID(o.Fire), ""); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("missed fire %v has a run (%v)", o.Fire, err)
		}
	}
}

// TestScheduleDuplicateFire: a fire delivered twice (or redelivered after
// a crash) starts one workflow; a start recorded by a runner that died
// before making it is made by the next fire.
func TestScheduleDuplicateFire(t *testing.T) {
	t.Parallel()
	env, c, _ := setup(t)
	if _, err := c.CreateSchedule(ctx(t), client.ScheduleOptions{ID: "dup", Spec: "@yearly", Workflow: Quick,
		Overlap: client.OverlapAllowAll}); err != nil {
		t.Fatal(err)
	}
	spec, _ := schedules.ParseSpec("@yearly", "")
	next := spec.Next(time.Now())
	nominal := spec.Prev(next)
	// Three deliveries of one fire, two of them concurrent (two runners).
	r := schedules.NewRunner(env.Conn(), env.JetStream(), env.Names())
	if err := schedules.OpenRunner(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	for range 2 {
		go func() { errs <- schedules.ProcessFire(ctx(t), r, "dup", next) }()
	}
	errs <- schedules.ProcessFire(ctx(t), r, "dup", next)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	d := waitState(t, c, "dup", "the start", func(d *client.ScheduleDescription) bool { return d.State.Starts >= 1 })
	d, _ = c.DescribeSchedule(ctx(t), "dup")
	wid := d.WorkflowID(nominal)
	if d.State.Starts != 1 || d.State.Running != wid {
		t.Fatalf("three copies of one fire: %+v, want one start of %s", d.State, wid)
	}
	hist, err := c.History(ctx(t), wid, "")
	if err != nil {
		t.Fatal(err)
	}
	if hist[0].Type != history.TypeWorkflowStarted {
		t.Fatalf("history of %s starts with %s", wid, hist[0].Type)
	}
	waitClosed(t, c, wid)

	// A runner recorded the start of the next fire time and died before
	// making it: simulate by writing that state, then redeliver the fire.
	next2 := spec.Next(next)
	wid2 := d.WorkflowID(next)
	kv, err := env.JetStream().KeyValue(ctx(t), env.Names().SchedulesBucket())
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx(t), env.Names().ScheduleKey("dup"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(e.Value(), &raw); err != nil {
		t.Fatal(err)
	}
	st := raw["state"].(map[string]any)
	st["lastFire"], st["running"], st["started"], st["starts"] = next.Format(time.RFC3339), wid2, []string{wid2}, 2
	b, _ := json.Marshal(raw)
	if _, err := kv.Update(ctx(t), e.Key(), b, e.Revision()); err != nil {
		t.Fatal(err)
	}
	if err := schedules.ProcessFire(ctx(t), r, "dup", next2); err != nil {
		t.Fatal(err)
	}
	waitExists(t, c, wid2)
	if d, _ := c.DescribeSchedule(ctx(t), "dup"); d.State.Starts != 2 {
		t.Fatalf("starts %d, want 2", d.State.Starts)
	}
}
