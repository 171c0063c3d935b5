package testenv_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/subscription.history.json from the time-skipping env")

// seqOf returns the seq of the n-th (1-based) event of history matching
// match.
func seqOf(t *testing.T, batches []history.Batch, n int, match func(*history.Event) bool) int64 {
	t.Helper()
	for _, b := range batches {
		for _, ev := range b {
			if match(ev) {
				if n--; n == 0 {
					return ev.Seq
				}
			}
		}
	}
	t.Fatal("no such event in history")
	return 0
}

func isCharge(ev *history.Event) bool {
	a, ok := ev.Attributes.(*history.ActivityScheduled)
	return ok && a.ActivityType == "ChargeMonth"
}

func isWelcome(ev *history.Event) bool {
	a, ok := ev.Attributes.(*history.StepCompleted)
	return ok && a.Name == "welcome"
}

// checkReplays replays data against Subscription (clean) and against each
// changed version, which must fail at the event where it departs.
func checkReplays(t *testing.T, data []byte) {
	t.Helper()
	batches, err := history.ParseExport(data)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Replay(t, Subscription, data)
	cases := []struct {
		name     string
		fn       any
		seq      int64
		expected string
		actual   string
	}{
		{"renamed activity", SubscriptionRenamedActivity, seqOf(t, batches, 1, isCharge), "ActivityScheduled(ChargeMonth)", "ActivityScheduled(ChargeMonthV2)"},
		{"extra timer", SubscriptionExtraTimer, seqOf(t, batches, 3, isCharge), "ActivityScheduled(ChargeMonth)", "TimerStarted"},
		{"removed step", SubscriptionNoWelcome, seqOf(t, batches, 1, isWelcome), "Step(welcome)", "ActivityScheduled(ChargeMonth)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := testenv.ReplayHistory(c.fn, data)
			var nde *testenv.NonDeterminismError
			if !errors.As(err, &nde) {
				t.Fatalf("replay: %v", err)
			}
			if nde.EventSeq != c.seq || nde.Expected != c.expected || nde.Actual != c.actual ||
				!strings.Contains(nde.Location, "fixtures_test.go:") {
				t.Fatalf("got %+v, want seq %d, %s vs %s", nde, c.seq, c.expected, c.actual)
			}
		})
	}
}

// TestReplayEnvHistory records a year-long run in the time-skipping env,
// exports it as JSON, and replays it against the same and changed code.
func TestReplayEnvHistory(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.RegisterActivity(ChargeMonth)
	we.ExecuteWorkflow(Subscription, Plan{Customer: "ada", Months: 12, Every: month, Cents: 999})
	if err := we.Err(); err != nil {
		t.Fatal(err)
	}
	checkReplays(t, we.HistoryJSON())
}

// TestReplaySavedHistory replays a history saved in testdata, the way a
// CI job guards running workflows against incompatible deploys. Run with
// -update to record it again.
func TestReplaySavedHistory(t *testing.T) {
	path := filepath.Join("testdata", "subscription.history.json")
	if *update {
		we := testenv.NewWorkflowEnv(t)
		we.RegisterActivity(ChargeMonth)
		we.ExecuteWorkflow(Subscription, Plan{Customer: "ada", Months: 3, Every: month, Cents: 999})
		if err := os.WriteFile(path, append(we.HistoryJSON(), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkReplays(t, data)
}

// TestReplayServerHistory records a real run on the embedded server,
// exports it as `cairn workflow history --json` does, and replays it.
func TestReplayServerHistory(t *testing.T) {
	e := testenv.New(t)
	e.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(Subscription)
		w.RegisterActivity(ChargeMonth)
	})
	c := e.Client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	run, err := c.Start(ctx, client.StartOptions{ID: "sub-1"}, Subscription, Plan{Customer: "ada", Months: 3, Every: 10 * time.Millisecond, Cents: 999})
	if err != nil {
		t.Fatal(err)
	}
	var s Statement
	if err := run.Get(ctx, &s); err != nil || len(s.Charges) != 3 {
		t.Fatalf("statement %+v, %v", s, err)
	}
	batches, err := c.HistoryBatches(ctx, "sub-1", "")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(history.ExportEvents(batches), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkReplays(t, data)

	// Exports made before events carried their batch are regrouped by
	// event time.
	events, err := c.History(ctx, "sub-1", "")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.ReplayHistory(Subscription, legacy); err != nil {
		t.Fatalf("legacy export: %v", err)
	}
}

// TestParseExportForms: the export form, the stored form (batches) and
// errors.
func TestParseExportForms(t *testing.T) {
	we := testenv.NewWorkflowEnv(t)
	we.ExecuteWorkflow(Approval, "x")
	want := we.History()
	stored, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"export": we.HistoryJSON(), "stored": stored} {
		got, err := history.ParseExport(data)
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: %d batches, want %d: %v", name, len(got), len(want), err)
		}
		for i := range got {
			if len(got[i]) != len(want[i]) || got[i][0].Seq != want[i][0].Seq {
				t.Fatalf("%s: batch %d differs", name, i)
			}
		}
	}
	if _, err := history.ParseExport([]byte(`{"seq":1}`)); err == nil {
		t.Fatal("an object parsed as a history")
	}
}

// recordingT collects the errors and cleanups of a WorkflowEnv, so a test
// can check what the env reports when the test ends.
type recordingT struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recordingT) Cleanup(fn func()) { r.cleanups = append(r.cleanups, fn) }

// TestEnvChecksDeterminism: the env replays what a test recorded and
// reports workflow code that does not reproduce it.
func TestEnvChecksDeterminism(t *testing.T) {
	rt := &recordingT{TB: t}
	we := testenv.NewWorkflowEnv(rt)
	executions := 0
	we.ExecuteWorkflow(func(ctx workflow.Context, in string) (string, error) {
		executions++
		if executions == 1 { // a decision that depends on state outside the workflow
			_ = workflow.Sleep(ctx, time.Hour)
		}
		return in, nil
	}, "x")
	if err := we.Err(); err != nil {
		t.Fatal(err)
	}
	for _, fn := range rt.cleanups {
		fn()
	}
	if len(rt.errs) != 1 || !strings.Contains(rt.errs[0], "does not replay") || !strings.Contains(rt.errs[0], "history has TimerStarted") {
		t.Fatalf("errors %q", rt.errs)
	}
}
