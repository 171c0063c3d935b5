package telemetry_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/telemetry"
	"github.com/cairnhq/cairn/testenv"
)

// Traced runs three activities, a timer and a wait for an external event.
func Traced(ctx workflow.Context, in string) (string, error) {
	a, err := workflow.ExecuteActivity(ctx, Step, in+"-1").Get(ctx)
	if err != nil {
		return "", err
	}
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return "", err
	}
	b, err := workflow.ExecuteActivity(ctx, Step, in+"-2").Get(ctx)
	if err != nil {
		return "", err
	}
	sig, err := workflow.ReceiveSignal[string](ctx, "go")
	if err != nil {
		return "", err
	}
	c, err := workflow.ExecuteActivity(ctx, Step, sig).Get(ctx)
	if err != nil {
		return "", err
	}
	return a + "," + b + "," + c, nil
}

// Step is the activity.
func Step(ctx context.Context, s string) (string, error) {
	if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
		return "", fmt.Errorf("activity context without a span")
	}
	return strings.ToUpper(s), nil
}

func register(w *worker.Worker) {
	w.RegisterWorkflow(Traced)
	w.RegisterActivity(Step)
}

// process is a tracer provider standing for one OS process; all of them
// export to one in-memory exporter, synchronously.
func process(t *testing.T, exp *tracetest.InMemoryExporter, name string) *sdktrace.TracerProvider {
	tp := telemetry.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.instance.id", name))))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

func instanceOf(s tracetest.SpanStub) string {
	v, _ := s.Resource.Set().Value("service.instance.id")
	return v.AsString()
}

func attr(s tracetest.SpanStub, key attribute.Key) attribute.Value {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func count(spans tracetest.SpanStubs, prefix string) int {
	n := 0
	for _, s := range spans {
		if strings.HasPrefix(s.Name, prefix) {
			n++
		}
	}
	return n
}

func waitSpans(t *testing.T, ctx context.Context, exp *tracetest.InMemoryExporter, cond func(tracetest.SpanStubs) bool) tracetest.SpanStubs {
	t.Helper()
	for {
		spans := exp.GetSpans()
		if cond(spans) {
			return spans
		}
		select {
		case <-ctx.Done():
			t.Fatalf("spans never reached the expected state; have:\n%s", render(spans))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// render prints the span tree, children in start order, for failure output
// and the exact-tree comparison.
func render(spans tracetest.SpanStubs) string {
	byParent := map[trace.SpanID][]tracetest.SpanStub{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext.SpanID()] = true
	}
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if p := s.Parent.SpanID(); p.IsValid() && ids[p] {
			byParent[p] = append(byParent[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(list []tracetest.SpanStub, depth int)
	walk = func(list []tracetest.SpanStub, depth int) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].StartTime.Before(list[j].StartTime) })
		for _, s := range list {
			fmt.Fprintf(&b, "%s%s [%s]", strings.Repeat("  ", depth), s.Name, instanceOf(s))
			if debugRender {
				fmt.Fprintf(&b, " %v", s.Attributes)
			}
			if s.Status.Code == codes.Error {
				fmt.Fprintf(&b, " ERROR(%s)", s.Status.Description)
			}
			b.WriteString("\n")
			walk(byParent[s.SpanContext.SpanID()], depth+1)
		}
	}
	walk(roots, 0)
	return b.String()
}

// TestTraceAcrossWorkerRestart runs a workflow with three activities, a
// timer and an external event; the worker is killed while the timer is
// pending and another one (another "process", another tracer provider)
// finishes the run. The result must be one trace continuing the caller's,
// with exactly one span per piece of live work: replay on the second worker
// adds none.
func TestTraceAcrossWorkerRestart(t *testing.T) {
	env := testenv.New(t)
	exp := tracetest.NewInMemoryExporter()
	tpClient, tp1, tp2 := process(t, exp, "client"), process(t, exp, "w1"), process(t, exp, "w2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	w1 := env.StartWorker(t, "default", register, worker.WithTracerProvider(tp1))
	c, err := client.New(ctx, env.Conn(), client.WithTracerProvider(tpClient))
	if err != nil {
		t.Fatal(err)
	}
	callerCtx, caller := tpClient.Tracer("test").Start(ctx, "caller")
	run, err := c.Start(callerCtx, client.StartOptions{ID: "traced-1"}, Traced, "x")
	caller.End()
	if err != nil {
		t.Fatal(err)
	}

	// Kill the first worker once it has recorded the timer and gone idle:
	// its second task (activity result, timer started) has ended.
	waitSpans(t, ctx, exp, func(s tracetest.SpanStubs) bool {
		return count(s, telemetry.SpanWorkflowTask) == 2 && count(s, telemetry.SpanActivity) == 1
	})
	w1.Kill()
	env.StartWorker(t, "default", register, worker.WithTracerProvider(tp2))

	// The event is raised once the second activity's result is recorded,
	// so it is a task of its own.
	waitSpans(t, ctx, exp, func(s tracetest.SpanStubs) bool { return count(s, telemetry.SpanWorkflowTask) == 4 })
	sigCtx, raiser := tpClient.Tracer("test").Start(callerCtx, "raiser")
	if err := c.Signal(sigCtx, run.ID, run.Run, "go", "y"); err != nil {
		t.Fatal(err)
	}
	raiser.End()
	var out string
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if out != "X-1,X-2,Y" {
		t.Fatalf("result %q", out)
	} // The event's span links to the span of the code that raised it.
	var raiserID trace.SpanID
	for _, sp := range exp.GetSpans() {
		if sp.Name == "raiser" {
			raiserID = sp.SpanContext.SpanID()
		}
	}
	for _, sp := range exp.GetSpans() {
		if strings.HasPrefix(sp.Name, "Signal ") && (len(sp.Links) != 1 || sp.Links[0].SpanContext.SpanID() != raiserID) {
			t.Errorf("signal span links %v, want the raiser %s", sp.Links, raiserID)
		}
	}

	spans := waitSpans(t, ctx, exp, func(s tracetest.SpanStubs) bool {
		return count(s, telemetry.SpanWorkflowTask) == 6 && count(s, telemetry.SpanWorkflow+" ") == 1
	})
	// Anything still in flight would show up now.
	time.Sleep(300 * time.Millisecond)
	spans = exp.GetSpans()

	want := `caller [client]
  StartWorkflow Traced [client]
    Workflow Traced [w2]
      WorkflowTask Traced [w1]
        Activity Step [w1]
      WorkflowTask Traced [w1]
      Timer [w2]
      WorkflowTask Traced [w2]
        Activity Step [w2]
      WorkflowTask Traced [w2]
      WorkflowTask Traced [w2]
        Signal go [w2]
        Activity Step [w2]
      WorkflowTask Traced [w2]
  raiser [client]
`
	if got := render(spans); got != want {
		t.Fatalf("span tree:\n%s\nwant:\n%s", got, want)
	}

	// One trace, the caller's; every span id once.
	traceID := spans[0].SpanContext.TraceID()
	seen := map[trace.SpanID]bool{}
	for _, s := range spans {
		if s.SpanContext.TraceID() != traceID {
			t.Fatalf("span %s in trace %s, want %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
		if seen[s.SpanContext.SpanID()] {
			t.Fatalf("span id %s emitted twice (%s)", s.SpanContext.SpanID(), s.Name)
		}
		seen[s.SpanContext.SpanID()] = true
	}

	byName := func(name string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range spans {
			if s.Name == name {
				out = append(out, s)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].StartTime.Before(out[j].StartTime) })
		return out
	}
	exec := byName("Workflow Traced")[0]
	if exec.SpanContext.SpanID() != telemetry.ExecutionSpanID("traced-1", run.Run) {
		t.Fatal("execution span id is not the deterministic one")
	}
	start := byName("StartWorkflow Traced")[0]
	if exec.StartTime.Before(start.StartTime) || exec.StartTime.After(start.EndTime) {
		t.Fatalf("execution span starts at %v, outside the start call [%v, %v]", exec.StartTime, start.StartTime, start.EndTime)
	}
	for _, s := range spans {
		if s.Name == exec.Name || s.Name == "caller" || s.Name == start.Name {
			continue
		}
		if s.StartTime.Before(exec.StartTime) || s.EndTime.After(exec.EndTime.Add(time.Second)) {
			t.Errorf("%s [%v, %v] outside the execution [%v, %v]", s.Name, s.StartTime, s.EndTime, exec.StartTime, exec.EndTime)
		}
	}
	if got := attr(exec, telemetry.AttrWorkflowStatus).AsString(); got != "completed" {
		t.Errorf("execution status %q", got)
	}
	for _, key := range []attribute.Key{telemetry.AttrWorkflowID, telemetry.AttrWorkflowType, telemetry.AttrRun} {
		if attr(exec, key).AsString() == "" {
			t.Errorf("execution span lacks %s", key)
		}
	}
	acts := byName("Activity Step")
	for i, a := range acts {
		if attr(a, telemetry.AttrMessagingSystem).AsString() != "nats" || attr(a, telemetry.AttrMessagingDestination).AsString() == "" {
			t.Errorf("activity %d lacks messaging attributes: %v", i, a.Attributes)
		}
		if attr(a, telemetry.AttrActivityAttempt).AsInt64() != 1 || attr(a, telemetry.AttrRun).AsString() != run.Run {
			t.Errorf("activity %d attributes: %v", i, a.Attributes)
		}
		if a.SpanKind != trace.SpanKindConsumer {
			t.Errorf("activity %d kind %v", i, a.SpanKind)
		}
	}
	tasks := byName("WorkflowTask Traced")
	var seqs []int64
	for _, tk := range tasks {
		seqs = append(seqs, attr(tk, telemetry.AttrEventSeq).AsInt64())
		if attr(tk, telemetry.AttrTaskOutcome).AsString() != "committed" {
			t.Errorf("task outcome %v", tk.Attributes)
		}
	}
	if fmt.Sprint(seqs) != "[2 3 5 7 8 10]" {
		t.Errorf("tasks start at event seqs %v", seqs)
	}
	// The task that took the first activity's result links to its attempt.
	if l := tasks[1].Links; len(l) == 0 || l[0].SpanContext.SpanID() != acts[0].SpanContext.SpanID() {
		t.Errorf("second task links %v, want the first attempt %s", l, acts[0].SpanContext.SpanID())
	}
	tm := byName("Timer")[0]
	if d := tm.EndTime.Sub(tm.StartTime); d < time.Second || d > 10*time.Second {
		t.Errorf("timer span lasts %v, want about 1s", d)
	}
	if tm.StartTime.Before(tasks[1].StartTime) || tm.StartTime.After(tasks[1].EndTime) {
		t.Errorf("timer span starts at %v, outside the task that started it [%v, %v]", tm.StartTime, tasks[1].StartTime, tasks[1].EndTime)
	}
	if l := tm.Links; len(l) != 1 || l[0].SpanContext.SpanID() != tasks[2].SpanContext.SpanID() && l[0].SpanContext.SpanID() != tasks[1].SpanContext.SpanID() {
		t.Errorf("timer links %v, want the task that (re)armed it", l)
	}
	if got := attr(exec, telemetry.AttrEventSeq).AsInt64(); got != 11 {
		t.Errorf("execution span closes at event %d, want 11", got)
	}
}

// TestTraceWithoutCallerContext: a run started by a client without tracing
// still gets one trace, with the execution span as its root and a trace id
// derived from the workflow id and run.
func TestTraceWithoutCallerContext(t *testing.T) {
	env := testenv.New(t)
	exp := tracetest.NewInMemoryExporter()
	tp := process(t, exp, "w")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(Sleeper)
		w.RegisterActivity(Step)
	}, worker.WithTracerProvider(tp))
	c, err := client.New(ctx, env.Conn(), client.WithTracerProvider(tracenoop.NewTracerProvider()))
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Start(ctx, client.StartOptions{ID: "untraced"}, Sleeper, "z")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	spans := waitSpans(t, ctx, exp, func(s tracetest.SpanStubs) bool { return count(s, "Workflow ") == 1 && count(s, "WorkflowTask") == 3 })
	want := `Workflow Sleeper [w]
  WorkflowTask Sleeper [w]
    Activity Step [w]
  WorkflowTask Sleeper [w]
  Timer [w]
  WorkflowTask Sleeper [w]
`
	if got := render(spans); got != want {
		t.Fatalf("span tree:\n%s\nwant:\n%s", got, want)
	}
	for _, s := range spans {
		if s.SpanContext.TraceID() != telemetry.DerivedTraceID("untraced", run.Run) {
			t.Fatalf("%s: trace %s is not the derived one", s.Name, s.SpanContext.TraceID())
		}
	}
}

// Sleeper runs an activity, then sleeps.
func Sleeper(ctx workflow.Context, in string) error {
	if _, err := workflow.ExecuteActivity(ctx, Step, in).Get(ctx); err != nil {
		return err
	}
	return workflow.Sleep(ctx, 50*time.Millisecond)
}

// debugRender adds attributes to render's output.
var debugRender = false
