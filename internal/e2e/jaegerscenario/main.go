// Command jaegerscenario is the Jaeger end-to-end check run by
// .ci/jaeger-e2e: against a real Jaeger (OTLP on OTEL_EXPORTER_OTLP_ENDPOINT,
// query API on -jaeger), it runs a workflow with three activities, a timer
// and an external event across a worker restart, then reads the trace back
// from Jaeger's HTTP API and checks it: one trace, the expected spans, each
// under the expected parent.
//
// Each worker and the client have tracer providers of their own, as separate
// processes would; the first worker is killed (its connection closed under
// it) while the timer is pending, after its spans were flushed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/attribute"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
	"github.com/cairnhq/cairn/telemetry/otelsetup"
)

// Order runs three activities, a timer and a wait for an external event.
func Order(ctx workflow.Context, id string) (string, error) {
	charged, err := workflow.ExecuteActivity(ctx, Charge, id).Get(ctx)
	if err != nil {
		return "", err
	}
	if err := workflow.Sleep(ctx, 2*time.Second); err != nil {
		return "", err
	}
	reserved, err := workflow.ExecuteActivity(ctx, Reserve, id).Get(ctx)
	if err != nil {
		return "", err
	}
	carrier, err := workflow.ReceiveSignal[string](ctx, "shipped")
	if err != nil {
		return "", err
	}
	shipped, err := workflow.ExecuteActivity(ctx, Ship, carrier).Get(ctx)
	if err != nil {
		return "", err
	}
	return charged + "," + reserved + "," + shipped, nil
}

// Charge is an activity.
func Charge(_ context.Context, id string) (string, error) { return "charged " + id, nil }

// Reserve is an activity.
func Reserve(_ context.Context, id string) (string, error) { return "reserved " + id, nil }

// Ship is an activity.
func Ship(_ context.Context, carrier string) (string, error) { return "shipped by " + carrier, nil }

func register(w *worker.Worker) {
	w.RegisterWorkflow(Order)
	w.RegisterActivity(Charge)
	w.RegisterActivity(Reserve)
	w.RegisterActivity(Ship)
}

func main() {
	jaeger := flag.String("jaeger", "http://127.0.0.1:16686", "Jaeger query `URL`")
	timeout := flag.Duration("timeout", 2*time.Minute, "overall `timeout`")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, log, *jaeger); err != nil {
		log.Error("jaeger end-to-end check failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, jaeger string) error {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		return errors.New("OTEL_EXPORTER_OTLP_ENDPOINT is not set")
	}
	if os.Getenv("OTEL_METRICS_EXPORTER") == "" {
		os.Setenv("OTEL_METRICS_EXPORTER", "none") // Jaeger takes traces only
	}
	service := os.Getenv("OTEL_SERVICE_NAME")
	if service == "" {
		service = "cairn-jaeger-e2e-" + strings.ToLower(nuid.Next()[:8])
		os.Setenv("OTEL_SERVICE_NAME", service)
	}
	dir, err := os.MkdirTemp("", "cairn-jaeger-e2e")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := embedded.StartServer(ctx, embedded.WithDataDir(dir), embedded.WithPort(-1))
	if err != nil {
		return err
	}
	defer srv.Shutdown()

	// One set of providers per "process".
	newProviders := func(instance string) (*otelsetup.Providers, error) {
		return otelsetup.Setup(ctx, otelsetup.SetupOptions{Logger: log,
			Attributes: []attribute.KeyValue{attribute.String("service.instance.id", instance)}})
	}
	pc, err := newProviders("client")
	if err != nil {
		return err
	}
	defer pc.Shutdown(context.Background())
	p1, err := newProviders("worker-1")
	if err != nil {
		return err
	}
	defer p1.Shutdown(context.Background())
	p2, err := newProviders("worker-2")
	if err != nil {
		return err
	}
	defer p2.Shutdown(context.Background())
	if !pc.Tracing {
		return errors.New("tracing is off: check the OTEL_* environment")
	}

	connect := func(name string) (*nats.Conn, error) { return streams.Connect(srv.ClientURL(), nats.Name(name)) }
	startWorker := func(name string, p *otelsetup.Providers) (*nats.Conn, context.CancelFunc, error) {
		nc, err := connect(name)
		if err != nil {
			return nil, nil, err
		}
		w, err := worker.New(nc, "default", worker.WithLogger(log), worker.WithTracerProvider(p.TracerProvider),
			worker.WithMeterProvider(p.MeterProvider))
		if err != nil {
			return nil, nil, err
		}
		register(w)
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		select {
		case <-w.Ready():
		case err := <-done:
			stop()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		case <-ctx.Done():
			stop()
			return nil, nil, ctx.Err()
		}
		return nc, stop, nil
	}

	nc1, stop1, err := startWorker("worker-1", p1)
	if err != nil {
		return err
	}
	ncc, err := connect("client")
	if err != nil {
		return err
	}
	defer ncc.Close()
	c, err := client.New(ctx, ncc, client.WithTracerProvider(pc.TracerProvider))
	if err != nil {
		return err
	}

	id := "order-" + nuid.Next()
	callerCtx, caller := pc.TracerProvider.Tracer("jaeger-e2e").Start(ctx, "checkout")
	wr, err := c.Start(callerCtx, client.StartOptions{ID: id}, Order, id)
	caller.End()
	if err != nil {
		return err
	}
	log.Info("workflow started", "workflow_id", id, "run", wr.Run, "service", service)

	// Kill worker 1 while the timer is pending.
	if err := waitHistory(ctx, c, id, func(evs []*history.Event) bool { return has(evs, history.TypeTimerStarted, 1) }); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // let the task that started the timer finish
	if err := p1.TracerProvider.(interface{ ForceFlush(context.Context) error }).ForceFlush(ctx); err != nil {
		return fmt.Errorf("flush worker 1 spans: %w", err)
	}
	nc1.Close()
	stop1()
	log.Info("worker 1 killed with the timer pending")

	_, stop2, err := startWorker("worker-2", p2)
	if err != nil {
		return err
	}
	defer stop2()
	if err := waitHistory(ctx, c, id, func(evs []*history.Event) bool { return has(evs, history.TypeActivityCompleted, 2) }); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	if err := c.Signal(ctx, id, wr.Run, "shipped", "owl post"); err != nil {
		return err
	}
	var out string
	if err := wr.Get(ctx, &out); err != nil {
		return err
	}
	log.Info("workflow completed", "result", out)
	time.Sleep(300 * time.Millisecond) // the last task's span ends after the result is visible
	for _, p := range []*otelsetup.Providers{pc, p2} {
		if err := p.Shutdown(ctx); err != nil {
			return fmt.Errorf("flush spans: %w", err)
		}
	}

	want := map[string]int{
		"checkout": 1, "StartWorkflow Order": 1, "Workflow Order": 1, "WorkflowTask Order": 6,
		"Activity Charge": 1, "Activity Reserve": 1, "Activity Ship": 1, "Timer": 1, "Signal shipped": 1,
	}
	total := 0
	for _, n := range want {
		total += n
	}
	tr, err := pollTrace(ctx, jaeger, service, total)
	if err != nil {
		return err
	}
	if err := checkTrace(tr, want); err != nil {
		return err
	}
	log.Info("jaeger trace verified", "trace_id", tr.TraceID, "spans", len(tr.Spans))
	fmt.Print(renderTrace(tr))
	return nil
}

func has(evs []*history.Event, typ history.EventType, n int) bool {
	k := 0
	for _, e := range evs {
		if e.Type == typ {
			k++
		}
	}
	return k >= n
}

func waitHistory(ctx context.Context, c *client.Client, id string, cond func([]*history.Event) bool) error {
	for {
		evs, err := c.History(ctx, id, "")
		if err == nil && cond(evs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for history of %s: %w", id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// The parts of Jaeger's /api/traces answer the check reads.
type jaegerTrace struct {
	TraceID string       `json:"traceID"`
	Spans   []jaegerSpan `json:"spans"`
	// Processes by id: each span names the process that reported it.
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
		Tags        []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
	} `json:"processes"`
	Warnings []string `json:"warnings"`
}

type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64  `json:"startTime"`
	Duration  int64  `json:"duration"`
	ProcessID string `json:"processID"`
	Warnings  []string
}

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// pollTrace asks Jaeger for the service's traces until one has want spans.
func pollTrace(ctx context.Context, base, service string, want int) (*jaegerTrace, error) {
	q := url.Values{"service": {service}, "limit": {"20"}, "lookback": {"1h"}}
	u := strings.TrimSuffix(base, "/") + "/api/traces?" + q.Encode()
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var r struct {
				Data []jaegerTrace `json:"data"`
			}
			if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &r) == nil {
				n := 0
				for _, t := range r.Data {
					n += len(t.Spans)
				}
				last = fmt.Sprintf("%d traces, %d spans", len(r.Data), n)
				if n >= want {
					if len(r.Data) != 1 {
						return nil, fmt.Errorf("service %s has %d traces, want one (%s)", service, len(r.Data), last)
					}
					return &r.Data[0], nil
				}
			} else {
				last = fmt.Sprintf("HTTP %d: %.200s", resp.StatusCode, body)
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("jaeger never showed %d spans for service %s; last answer: %s", want, service, last)
}

// checkTrace asserts the span names and the parent of each span.
func checkTrace(tr *jaegerTrace, want map[string]int) error {
	got := map[string]int{}
	byID := map[string]jaegerSpan{}
	for _, s := range tr.Spans {
		got[s.OperationName]++
		if _, dup := byID[s.SpanID]; dup {
			return fmt.Errorf("span id %s appears twice", s.SpanID)
		}
		byID[s.SpanID] = s
		if s.TraceID != tr.TraceID {
			return fmt.Errorf("span %s in trace %s, want %s", s.OperationName, s.TraceID, tr.TraceID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("span names %v, want %v", got, want)
	}
	if len(tr.Warnings) > 0 {
		return fmt.Errorf("jaeger warns about the trace: %v", tr.Warnings)
	}
	parentName := func(s jaegerSpan) string {
		p, ok := byID[s.parent()]
		if !ok {
			return ""
		}
		return p.OperationName
	}
	wantParent := map[string]string{
		"checkout":            "",
		"StartWorkflow Order": "checkout",
		"Workflow Order":      "StartWorkflow Order",
		"WorkflowTask Order":  "Workflow Order",
		"Timer":               "Workflow Order",
		"Activity Charge":     "WorkflowTask Order",
		"Activity Reserve":    "WorkflowTask Order",
		"Activity Ship":       "WorkflowTask Order",
		"Signal shipped":      "WorkflowTask Order",
	}
	instances := map[string]bool{}
	for _, s := range tr.Spans {
		if p := parentName(s); p != wantParent[s.OperationName] {
			return fmt.Errorf("span %s has parent %q, want %q", s.OperationName, p, wantParent[s.OperationName])
		}
		if s.OperationName == "WorkflowTask Order" {
			for _, t := range tr.Processes[s.ProcessID].Tags {
				if t.Key == "service.instance.id" {
					instances[fmt.Sprint(t.Value)] = true
				}
			}
		}
	}
	if !instances["worker-1"] || !instances["worker-2"] {
		return fmt.Errorf("workflow tasks came from %v, want both workers", instances)
	}
	// The activity Ship and the event were recorded by the same task.
	var ship, signal jaegerSpan
	for _, s := range tr.Spans {
		switch s.OperationName {
		case "Activity Ship":
			ship = s
		case "Signal shipped":
			signal = s
		}
	}
	if ship.parent() != signal.parent() {
		return errors.New("the event and the activity it led to hang under different tasks")
	}
	return nil
}

func renderTrace(tr *jaegerTrace) string {
	children := map[string][]jaegerSpan{}
	var roots []jaegerSpan
	for _, s := range tr.Spans {
		if p := s.parent(); p != "" {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func([]jaegerSpan, int)
	walk = func(list []jaegerSpan, depth int) {
		sort.Slice(list, func(i, j int) bool { return list[i].StartTime < list[j].StartTime })
		for _, s := range list {
			fmt.Fprintf(&b, "%s%s (%s, %dus)\n", strings.Repeat("  ", depth), s.OperationName,
				tr.Processes[s.ProcessID].ServiceName, s.Duration)
			walk(children[s.SpanID], depth+1)
		}
	}
	fmt.Fprintf(&b, "trace %s\n", tr.TraceID)
	walk(roots, 0)
	return b.String()
}
