package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/examples/order"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
)

// orderInput is a demo order as JSON; shipAfter is the durable sleep.
func orderInput(id string, shipAfter time.Duration) string {
	b, _ := json.Marshal(order.Order{ID: id, Customer: "ada", Item: "book", Quantity: 1, AmountCt: 1299, ShipAfter: shipAfter})
	return string(b)
}

func TestStartAndResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 0))...)
	if !strings.Contains(r.stdout, `Started workflow "order-1"`) || !strings.Contains(r.stdout, "Run: ") {
		t.Fatalf("start output:\n%s", r.stdout)
	}
	r = mustCLI(t, e.wf("result", "--id", "order-1", "--timeout", "30s")...)
	var got order.Receipt
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("result is not JSON: %v\n%s", err, r.stdout)
	}
	want := order.Receipt{OrderID: "1", ChargeID: "ch_1_1", Reservation: "rs_1", Tracking: "trk_1"}
	if got != want {
		t.Fatalf("result %+v, want %+v", got, want)
	}

	// Reuse policies apply to the closed id.
	wantFail(t, exitError, "already used", e.wf("start", "--type", "Workflow", "--id", "order-1", "--reuse", "reject", "--input", orderInput("1", 0))...)
	wantFail(t, exitError, "already used", e.wf("start", "--type", "Workflow", "--id", "order-1", "--reuse", "failed-only", "--input", orderInput("1", 0))...)

	// --wait prints the result; global flags also work after the command.
	r = mustCLI(t, "workflow", "start", "--server", e.url, "--namespace", "default", "--type", "Workflow", "--id", "order-2",
		"--input", orderInput("2", 10*time.Millisecond), "--wait", "--timeout", "30s")
	if !strings.Contains(r.stdout, `Started workflow "order-2"`) || !strings.Contains(r.stdout, `"tracking": "trk_2"`) {
		t.Fatalf("start --wait output:\n%s", r)
	}

	// A start without --id gets a generated one.
	r = mustCLI(t, e.wf("start", "--type", "Workflow", "--input", orderInput("3", 0))...)
	if !strings.Contains(r.stdout, "Started workflow ") {
		t.Fatalf("start output:\n%s", r.stdout)
	}
}

func TestStartInputFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := filepath.Join(t.TempDir(), "order.json")
	if err := os.WriteFile(f, []byte(orderInput("7", 0)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-7", "--input-file", f, "--wait")...)
	if !strings.Contains(r.stdout, `"tracking": "trk_7"`) {
		t.Fatalf("output:\n%s", r)
	}
	wantFail(t, exitError, "read --input-file", e.wf("start", "--type", "Workflow", "--input-file", f+".missing")...)
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantFail(t, exitError, "unknown workflow type", e.wf("start", "--type", "NoSuchWorkflow", "--id", "x")...)
	wantFail(t, exitError, "unknown workflow type", e.wf("start", "--type", "Workflow", "--queue", "elsewhere", "--id", "x")...)
	wantFail(t, exitError, "invalid workflow input", e.wf("start", "--type", "Workflow", "--id", "x", "--input", "{not json")...)
	wantFail(t, exitError, "invalid argument", e.wf("start", "--type", "Workflow", "--id", "x", "--queue", "no.dots")...)

	// The server accepts 8 MiB; the client leaves room for headers.
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, []byte(`"`+strings.Repeat("x", 8<<20)+`"`), 0o644); err != nil {
		t.Fatal(err)
	}
	wantFail(t, exitError, "payload too large", e.wf("start", "--type", "Workflow", "--id", "x", "--input-file", big)...)

	wantFail(t, exitError, `namespace "nowhere" does not exist`, e.wf("list", "--namespace", "nowhere")...)
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, cmd := range []string{"describe", "history", "result", "cancel", "terminate"} {
		r := wantFail(t, exitError, "not found", e.wf(cmd, "--id", "no-such-order")...)
		if !strings.Contains(r.stderr, `workflow "no-such-order" not found in namespace "default"`) {
			t.Errorf("%s: %q", cmd, r.stderr)
		}
	}
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 0), "--wait")...)
	wantFail(t, exitError, `run nope of workflow "order-1" not found`, e.wf("describe", "--id", "order-1", "--run", "nope")...)
	wantFail(t, exitError, "not running", e.wf("cancel", "--id", "order-1")...)
}

// waitPendingTimer waits until the order has reached its durable sleep.
func waitPendingTimer(t *testing.T, e *env, id string) result {
	t.Helper()
	var r result
	eventually(t, func() string {
		r = mustCLI(t, e.wf("describe", "--id", id)...)
		if !strings.Contains(r.stdout, "Pending timers:") {
			return "no pending timer:\n" + r.stdout
		}
		return ""
	})
	return r
}

func TestDescribeRunningOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", time.Hour))...)

	r := waitPendingTimer(t, e, "order-1")
	for _, want := range []string{"Workflow ID:  order-1", "Type:         Workflow", "Task queue:   default", "Status:       running", "Pending timers:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("describe lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "(in 1h0m0s)") && !strings.Contains(r.stdout, "(in 59m") {
		t.Errorf("timer due time not shown:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "Waiting:") || strings.Contains(r.stdout, "PARKED") {
		t.Errorf("a served, healthy run is described as stuck:\n%s", r.stdout)
	}

	r = mustCLI(t, e.wf("describe", "--id", "order-1", "--json")...)
	var d client.Description
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("describe --json: %v\n%s", err, r.stdout)
	}
	if d.Status != history.StatusRunning || len(d.PendingTimers) != 1 || d.WorkflowID != "order-1" {
		t.Fatalf("description %+v", d)
	}
	if until := time.Until(d.PendingTimers[0].FireAt); until < 58*time.Minute || until > time.Hour {
		t.Errorf("timer fires in %v", until)
	}

	// Cancel: the workflow compensates and closes as canceled.
	r = mustCLI(t, e.wf("cancel", "--id", "order-1", "--reason", "customer changed their mind")...)
	if !strings.Contains(r.stdout, `Requested cancellation of workflow "order-1"`) {
		t.Fatalf("cancel output: %s", r)
	}
	r = wantFail(t, exitError, "canceled", e.wf("result", "--id", "order-1", "--timeout", "30s")...)
	if !strings.Contains(r.stderr, "customer changed their mind") {
		t.Errorf("result of canceled run: %q", r.stderr)
	}
	r = mustCLI(t, e.wf("describe", "--id", "order-1")...)
	if !strings.Contains(r.stdout, "Status:       canceled") || !strings.Contains(r.stdout, "Failure:") || strings.Contains(r.stdout, "Pending") {
		t.Errorf("describe after cancel:\n%s", r.stdout)
	}
	r = mustCLI(t, e.wf("history", "--id", "order-1")...)
	for _, want := range []string{"WorkflowCancelRequested", "TimerCanceled", "activity=Refund", "activity=Release", "WorkflowCanceled"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestTerminate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", time.Hour))...)
	waitPendingTimer(t, e, "order-1")
	r := mustCLI(t, e.wf("terminate", "--id", "order-1", "--reason", "test over")...)
	if !strings.Contains(r.stdout, `Terminated workflow "order-1"`) {
		t.Fatalf("terminate output: %s", r)
	}
	wantFail(t, exitError, "terminated: test over", e.wf("result", "--id", "order-1")...)
	r = mustCLI(t, e.wf("describe", "--id", "order-1")...)
	if !strings.Contains(r.stdout, "Status:       terminated") {
		t.Errorf("describe after terminate:\n%s", r.stdout)
	}
	wantFail(t, exitError, "not running", e.wf("terminate", "--id", "order-1")...)
	r = mustCLI(t, e.wf("list", "--status", "terminated")...)
	if !strings.Contains(r.stdout, "order-1") {
		t.Errorf("list --status terminated:\n%s", r.stdout)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 0), "--wait")...)

	r := mustCLI(t, e.wf("history", "--id", "order-1", "--json")...)
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("history --json is not a JSON array: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(r.stdout, "\n  {") {
		t.Errorf("history --json is not indented:\n%s", r.stdout)
	}
	var events []*history.Event
	if err := json.Unmarshal([]byte(r.stdout), &events); err != nil {
		t.Fatalf("history --json does not decode as events: %v", err)
	}
	if len(events) != len(raw) || len(events) < 4 {
		t.Fatalf("%d events", len(events))
	}
	if events[0].Type != history.TypeWorkflowStarted || events[len(events)-1].Type != history.TypeWorkflowCompleted {
		t.Fatalf("first %s, last %s", events[0].Type, events[len(events)-1].Type)
	}
	for i, ev := range events {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	started := events[0].Attributes.(*history.WorkflowStarted)
	if started.WorkflowID != "order-1" || started.WorkflowType != "Workflow" {
		t.Errorf("start event %+v", started)
	}

	r = mustCLI(t, e.wf("history", "--id", "order-1", "--run", started.Run)...)
	for _, want := range []string{"SEQ", "WorkflowStarted", "activity=Charge", `result="ch_1_1"`, "activity=Ship", "WorkflowCompleted"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 0), "--wait")...)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-2", "--input", orderInput("2", time.Hour))...)

	// The worker writes the summary of a closed run after the close is
	// committed, so wait for it.
	eventually(t, func() string {
		r := mustCLI(t, e.wf("list", "--status", "completed")...)
		if !strings.Contains(r.stdout, "order-1") || strings.Contains(r.stdout, "order-2") {
			return "list --status completed:\n" + r.stdout
		}
		return ""
	})
	r := mustCLI(t, e.wf("list")...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "WORKFLOW ID") ||
		!strings.HasPrefix(lines[1], "order-2") || !strings.HasPrefix(lines[2], "order-1") {
		t.Fatalf("list (newest first):\n%s", r.stdout)
	}
	if !strings.Contains(lines[1], "running") || !strings.Contains(lines[2], "completed") {
		t.Errorf("statuses:\n%s", r.stdout)
	}

	r = mustCLI(t, e.wf("list", "--json", "--type", "Workflow", "--queue", "default")...)
	var sums []history.Summary
	if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil || len(sums) != 2 {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	r = mustCLI(t, e.wf("list", "--limit", "1")...)
	if n := strings.Count(strings.TrimSpace(r.stdout), "\n"); n != 1 || !strings.Contains(r.stdout, "order-2") {
		t.Errorf("list --limit 1:\n%s", r.stdout)
	}
	r = mustCLI(t, e.wf("list", "--type", "Nothing")...)
	if strings.TrimSpace(r.stdout) != "No workflows." {
		t.Errorf("empty list: %q", r.stdout)
	}
	r = mustCLI(t, e.wf("list", "--type", "Nothing", "--json")...)
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("empty list --json: %q", r.stdout)
	}
}

func TestParkedRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Panicky", "--id", "bad-1", "--input", `"input"`)...)
	var r result
	eventually(t, func() string {
		r = mustCLI(t, e.wf("describe", "--id", "bad-1")...)
		if !strings.Contains(r.stdout, "PARKED:") {
			return "not parked:\n" + r.stdout
		}
		return ""
	})
	for _, want := range []string{"Status:       running (PARKED)", "panicked", "boom: input", "cmd/cairn.Panicky("} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("describe of a parked run lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustCLI(t, e.wf("list")...)
	if !strings.Contains(r.stdout, "running (PARKED)") {
		t.Errorf("list does not flag the parked run:\n%s", r.stdout)
	}
	r = wantFail(t, exitError, "timed out", e.wf("result", "--id", "bad-1", "--timeout", "200ms")...)
	if !strings.Contains(r.stderr, "parked") {
		t.Errorf("result does not warn about the parked run:\n%s", r.stderr)
	}
}

func TestWaitingForWorker(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A worker registers the type on queue "lonely" and goes away.
	stop := e.startWorker(t, "lonely", false)
	stop()

	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--queue", "lonely", "--input", orderInput("1", 0))...)
	r := mustCLI(t, e.wf("describe", "--id", "order-1")...)
	if !strings.Contains(r.stdout, "Waiting:") || !strings.Contains(r.stdout, "no live worker") {
		t.Fatalf("describe of an unserved run:\n%s", r.stdout)
	}
	r = wantFail(t, exitError, "timed out after 200ms", e.wf("result", "--id", "order-1", "--timeout", "200ms")...)
	if !strings.Contains(r.stderr, "no live worker") {
		t.Errorf("result does not say why it waits:\n%s", r.stderr)
	}

	// The run continues once a worker serves the queue again.
	e.startWorker(t, "lonely", false)
	r = mustCLI(t, e.wf("result", "--id", "order-1", "--timeout", "30s")...)
	if !strings.Contains(r.stdout, "trk_1") {
		t.Fatalf("result: %s", r)
	}
}

// TestEnvironment is not parallel: it sets environment variables.
func TestEnvironment(t *testing.T) {
	e := newEnv(t)
	t.Setenv(envServer, e.url)
	t.Setenv(envNamespace, "default")
	mustCLI(t, "workflow", "start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 0), "--wait")
	r := mustCLI(t, "workflow", "list")
	if !strings.Contains(r.stdout, "order-1") {
		t.Fatalf("list via %s:\n%s", envServer, r.stdout)
	}
	t.Setenv(envNamespace, "other")
	wantFail(t, exitError, `namespace "other" does not exist`, "workflow", "list")
	// Flags win over the environment.
	mustCLI(t, "workflow", "list", "--namespace", "default")

	// Without CAIRN_SERVER, NATS_URL is read, a list as nats.go takes it
	// (a client tries every URL until one answers).
	t.Setenv(envServer, "")
	t.Setenv(envNATSURL, "nats://127.0.0.1:1, "+e.url)
	r = mustCLI(t, "workflow", "list", "--namespace", "default")
	if !strings.Contains(r.stdout, "order-1") {
		t.Fatalf("list via %s:\n%s", envNATSURL, r.stdout)
	}
	t.Setenv(envNATSURL, "nats://127.0.0.1:1")
	wantFail(t, exitError, "cannot reach a NATS server at nats://127.0.0.1:1", "workflow", "list")
}

func TestExecutionTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "slow-1", "--input", orderInput("1", time.Hour), "--execution-timeout", "500ms")...)
	wantFail(t, exitError, "timeout", e.wf("result", "--id", "slow-1", "--timeout", "30s")...)
	r := mustCLI(t, e.wf("describe", "--id", "slow-1")...)
	if !strings.Contains(r.stdout, "Status:       timed_out") {
		t.Errorf("describe of a timed-out run:\n%s", r.stdout)
	}
	r = mustCLI(t, e.wf("history", "--id", "slow-1")...)
	if !strings.Contains(r.stdout, "WorkflowTimedOut") || !strings.Contains(r.stdout, "timeout=500ms") {
		t.Errorf("history of a timed-out run:\n%s", r.stdout)
	}
	eventually(t, func() string {
		r := mustCLI(t, e.wf("list", "--status", "timed_out")...)
		if !strings.Contains(r.stdout, "slow-1") {
			return "list --status timed_out:\n" + r.stdout
		}
		return ""
	})
}

func TestSignal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", time.Hour))...)
	waitPendingTimer(t, e, "order-1")
	r := mustCLI(t, e.wf("signal", "--id", "order-1", "--name", "address-changed", "--input", `{"city":"Oslo"}`)...)
	if !strings.Contains(r.stdout, `Sent signal "address-changed" to workflow "order-1"`) {
		t.Fatalf("signal output: %s", r)
	}
	// The signal goes to the workflow's inbox; the worker records it in
	// history when it takes the message, shortly after.
	eventually(t, func() string {
		r := cli(t, e.wf("history", "--id", "order-1")...)
		if !strings.Contains(r.stdout, "SignalReceived") {
			return "history lacks the event:\n" + r.String()
		}
		return ""
	})
	wantFail(t, exitUsage, "--name is required", e.wf("signal", "--id", "order-1")...)
	wantFail(t, exitError, "not valid JSON", e.wf("signal", "--id", "order-1", "--name", "x", "--input", "{")...)
	wantFail(t, exitError, "not found", e.wf("signal", "--id", "nobody", "--name", "x")...)
	mustCLI(t, e.wf("terminate", "--id", "order-1")...)
	wantFail(t, exitError, "not running", e.wf("signal", "--id", "order-1", "--name", "x")...)
}

func TestCallbackCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "AwaitsCallback", "--id", "cb-1", "--input", `"cb-1"`)...)
	var token string
	eventually(t, func() string {
		if v, ok := tokens.Load("cb-1"); ok {
			token = v.(string)
			return ""
		}
		return "no token yet"
	})
	cb := func(args ...string) []string { return append([]string{"callback", "--server", e.url}, args...) }
	r := mustCLI(t, cb("heartbeat", token)...)
	if !strings.Contains(r.stdout, "heartbeat sent") {
		t.Fatalf("heartbeat: %s", r)
	}
	r = mustCLI(t, e.wf("describe", "--id", "cb-1")...)
	if !strings.Contains(r.stdout, "Pending callbacks:") || !strings.Contains(r.stdout, "approval") {
		t.Errorf("describe does not show the pending callback:\n%s", r.stdout)
	}
	mustCLI(t, cb("succeed", token, "--output", `"yes"`)...)
	r = mustCLI(t, e.wf("result", "--id", "cb-1")...)
	if !strings.Contains(r.stdout, `"yes"`) {
		t.Fatalf("result: %s", r)
	}
	wantFail(t, exitError, "callback is not pending", cb("succeed", token)...)
	wantFail(t, exitError, "not a callback token", cb("fail", "garbage")...)
	wantFail(t, exitUsage, "want succeed, fail or heartbeat", "callback", "--server", e.url)
}

// TestCallbackDecidedOnceCLI: the CLI refuses a second, different decision
// on a token with the typed error's text, and repeats the first one.
func TestCallbackDecidedOnceCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stop := e.startWorker(t, "cbonce", true)
	mustCLI(t, e.wf("start", "--type", "AwaitsCallback", "--id", "cb-once", "--queue", "cbonce", "--input", `"cb-once"`)...)
	var token string
	eventually(t, func() string {
		v, ok := tokens.Load("cb-once")
		if !ok {
			return "no token yet"
		}
		token = v.(string)
		// The token is handed out before the wait is committed.
		if r := cli(t, e.wf("describe", "--id", "cb-once")...); !strings.Contains(r.stdout, "Pending callbacks:") {
			return "wait not recorded yet: " + r.String()
		}
		return ""
	})
	stop()
	cb := func(args ...string) []string { return append([]string{"callback", "--server", e.url}, args...) }
	mustCLI(t, cb("succeed", token, "--output", `"A"`)...)
	wantFail(t, exitError, "callback is not pending", cb("fail", token, "--message", "no")...)
	wantFail(t, exitError, "callback is not pending", cb("succeed", token, "--output", `"B"`)...)
	mustCLI(t, cb("succeed", token, "--output", `"A"`)...)
	e.startWorker(t, "cbonce", true)
	r := mustCLI(t, e.wf("result", "--id", "cb-once")...)
	if !strings.Contains(r.stdout, `"A"`) {
		t.Fatalf("result: %s", r)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Counter", "--id", "q-1")...)
	mustCLI(t, e.wf("signal", "--id", "q-1", "--name", "tick")...)
	eventually(t, func() string {
		r := cli(t, e.wf("query", "--id", "q-1", "--name", "count", "--input", "10")...)
		if strings.TrimSpace(r.stdout) != "11" {
			return "count is " + r.String()
		}
		return ""
	})
	wantFail(t, exitError, "unknown query", e.wf("query", "--id", "q-1", "--name", "nope")...)
	wantFail(t, exitUsage, "--name is required", e.wf("query", "--id", "q-1")...)
	wantFail(t, exitError, "not found", e.wf("query", "--id", "ghost", "--name", "count")...)
}

// TestResultShowsProgress: with --progress, result shows on stderr the
// events the run records while it waits (the durable sleep, the shipment,
// the completion), then prints the result.
func TestResultShowsProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "progress-1", "--input", orderInput("7", 2*time.Second))...)
	r := mustCLI(t, e.wf("result", "--id", "progress-1", "--timeout", "30s", "--progress")...)
	if !strings.Contains(r.stdout, "trk_7") {
		t.Fatalf("result:\n%s", r.stdout)
	}
	for _, want := range []string{"TimerFired", "WorkflowCompleted"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("no %s in the progress:\n%s", want, r.stderr)
		}
	}
	// Not asked for (and not a terminal): nothing on stderr.
	if r := mustCLI(t, e.wf("result", "--id", "progress-1")...); r.stderr != "" {
		t.Errorf("stderr without --progress: %q", r.stderr)
	}
}
