package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// conn stands in for a connection in tests that never reach the server:
// New and the registration checks do not use it.
var conn = new(nats.Conn)

func Hello(ctx context.Context, name string) (string, error) {
	return "hello " + name + " from " + activity.GetInfo(ctx).Queue, nil
}

func Greeting(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, Hello, name).Get(ctx)
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name    string
		opt     worker.Option
		invalid string // the option the error names; "" means valid
	}{
		{"namespace", worker.WithNamespace("tenant_1"), ""},
		{"empty namespace", worker.WithNamespace(""), "WithNamespace"},
		{"namespace alphabet", worker.WithNamespace("a.b"), "WithNamespace"},
		{"nil converter", worker.WithDataConverter(nil), "WithDataConverter"},
		{"nil logger", worker.WithLogger(nil), "WithLogger"},
		{"logger", worker.WithLogger(slog.Default()), ""},
		{"activity concurrency", worker.WithActivityConcurrency(8), ""},
		{"zero activity concurrency", worker.WithActivityConcurrency(0), "WithActivityConcurrency"},
		{"cache", worker.WithMaxCachedWorkflows(1), ""},
		{"zero cache", worker.WithMaxCachedWorkflows(0), "WithMaxCachedWorkflows"},
		{"shards", worker.WithWorkflowTaskShards(-2), "WithWorkflowTaskShards"},
		{"task timeout", worker.WithWorkflowTaskTimeout(0), "WithWorkflowTaskTimeout"},
		{"park retry", worker.WithParkRetry(-time.Second), "WithParkRetry"},
		{"history events", worker.WithMaxHistoryEvents(0), "WithMaxHistoryEvents"},
		{"history bytes", worker.WithMaxHistoryBytes(-1), "WithMaxHistoryBytes"},
		{"deadlock", worker.WithDeadlockDetectionTimeout(0), "WithDeadlockDetectionTimeout"},
		{"nil tracer provider", worker.WithTracerProvider(nil), "WithTracerProvider"},
		{"nil meter provider", worker.WithMeterProvider(nil), "WithMeterProvider"},
		{"empty build id", worker.WithBuildID(""), "WithBuildID"},
		{"build id", worker.WithBuildID("v1.2.3"), ""},
		{"retention forever", worker.WithRetention(0), ""},
		{"without telemetry", worker.WithoutTelemetry(), ""},
		{"replicas", worker.WithReplicas(3), ""},
		{"zero replicas", worker.WithReplicas(0), "WithReplicas"},
		{"six replicas", worker.WithReplicas(6), "WithReplicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := worker.New(conn, "q", tt.opt)
			if tt.invalid == "" {
				if err != nil || w == nil {
					t.Fatalf("valid option rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, worker.ErrInvalidOption) || !strings.Contains(err.Error(), tt.invalid) || w != nil {
				t.Fatalf("New = %v, %v; want ErrInvalidOption naming %s", w, err, tt.invalid)
			}
		})
	}
}

func TestNewValidatesArguments(t *testing.T) {
	if _, err := worker.New(nil, "q"); err == nil {
		t.Fatal("nil connection accepted")
	}
	for _, q := range []string{"", "a.b", "a b", strings.Repeat("q", 65)} {
		if _, err := worker.New(conn, q); err == nil {
			t.Fatalf("queue %q accepted", q)
		}
	}
}

func TestRegistrationErrorsReportedByRun(t *testing.T) {
	tests := []struct {
		name     string
		register func(w *worker.Worker)
		want     error
		mention  string
	}{
		{"empty name", func(w *worker.Worker) { w.RegisterActivity(Hello, worker.WithName("")) }, worker.ErrInvalidOption, "WithName"},
		{"concurrency", func(w *worker.Worker) { w.RegisterActivity(Hello, worker.WithConcurrency(0)) }, worker.ErrInvalidOption, "WithConcurrency"},
		{"heartbeat", func(w *worker.Worker) { w.RegisterActivity(Hello, worker.WithHeartbeatTimeout(-1)) }, worker.ErrInvalidOption, "WithHeartbeatTimeout"},
		{"workflow name", func(w *worker.Worker) { w.RegisterWorkflow(Greeting, worker.WithName("")) }, worker.ErrInvalidOption, "WithName"},
		{"handler name", func(w *worker.Worker) { w.RegisterActivityHandler("", nil) }, worker.ErrInvalidOption, "name"},
		{"twice", func(w *worker.Worker) { w.RegisterActivity(Hello); w.RegisterActivity(Hello) }, worker.ErrAlreadyRegistered, `"Hello"`},
		{"twice under a name", func(w *worker.Worker) {
			w.RegisterWorkflow(Greeting, worker.WithName("G"))
			w.RegisterWorkflow(Greeting, worker.WithName("G"))
		}, worker.ErrAlreadyRegistered, `"G"`},
		{"activity shape", func(w *worker.Worker) { w.RegisterActivity(func(string) error { return nil }) }, nil, "activity must be"},
		{"workflow shape", func(w *worker.Worker) { w.RegisterWorkflow(Hello) }, nil, "workflow function must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := worker.New(conn, "q")
			if err != nil {
				t.Fatal(err)
			}
			tt.register(w)
			err = w.Run(context.Background())
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Run = %v; want %v mentioning %s", err, tt.want, tt.mention)
			}
		})
	}
}

// TestWorkerServes runs a tuned worker against a real server: a started
// workflow runs its activity on the worker's queue, and the cache bound
// holds.
func TestWorkerServes(t *testing.T) {
	env := testenv.New(t)
	w := env.StartWorker(t, "greetings", func(w *worker.Worker) {
		w.RegisterWorkflow(Greeting)
		w.RegisterActivity(Hello, worker.WithConcurrency(2))
	}, worker.WithMaxCachedWorkflows(1), worker.WithWorkflowTaskShards(2), worker.WithBuildID("test"),
		worker.WithDeadlockDetectionTimeout(2*time.Second), worker.WithMaxHistoryEvents(1000))
	if w.ID() == "" {
		t.Fatal("empty worker id")
	}
	c := env.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"ada", "bob"} {
		run, err := c.Start(ctx, client.StartOptions{ID: "greet-" + name, TaskQueue: "greetings"}, Greeting, name)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := run.Get(ctx, &got); err != nil || got != "hello "+name+" from greetings" {
			t.Fatalf("%s: %q, %v", name, got, err)
		}
	}
	if n := w.CachedInstances(); n > 1 {
		t.Fatalf("%d cached instances, bound 1", n)
	}
}
