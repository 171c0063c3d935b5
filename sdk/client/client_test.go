package client_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name    string
		opt     client.Option
		invalid string
	}{
		{"empty namespace", client.WithNamespace(""), "WithNamespace"},
		{"namespace alphabet", client.WithNamespace("orders.eu"), "WithNamespace"},
		{"long namespace", client.WithNamespace(strings.Repeat("n", 65)), "WithNamespace"},
		{"nil converter", client.WithDataConverter(nil), "WithDataConverter"},
		{"zero max payload", client.WithMaxPayload(0), "WithMaxPayload"},
		{"negative max payload", client.WithMaxPayload(-1), "WithMaxPayload"},
		{"nil logger", client.WithLogger(nil), "WithLogger"},
		{"nil tracer provider", client.WithTracerProvider(nil), "WithTracerProvider"},
		{"empty identity", client.WithIdentity(""), "WithIdentity"},
		{"zero replicas", client.WithReplicas(0), "WithReplicas"},
		{"six replicas", client.WithReplicas(6), "WithReplicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The options are checked before the connection is used.
			c, err := client.New(context.Background(), new(nats.Conn), tt.opt)
			if !errors.Is(err, client.ErrInvalidOption) || !strings.Contains(err.Error(), tt.invalid) || c != nil {
				t.Fatalf("New = %v, %v; want ErrInvalidOption naming %s", c, err, tt.invalid)
			}
		})
	}
	if _, err := client.New(context.Background(), nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("nil connection: %v", err)
	}
}

func TestReusePolicyNames(t *testing.T) {
	for _, p := range []client.WorkflowIDReusePolicy{client.WorkflowIDReusePolicyAllowDuplicate,
		client.WorkflowIDReusePolicyAllowDuplicateFailedOnly, client.WorkflowIDReusePolicyRejectDuplicate} {
		got, err := client.ParseWorkflowIDReusePolicy(p.String())
		if err != nil || got != p {
			t.Errorf("Parse(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := client.ParseWorkflowIDReusePolicy("sometimes"); !errors.Is(err, client.ErrInvalidOption) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestParseAttributeFilter(t *testing.T) {
	tests := []struct {
		in   string
		want client.AttributeFilter
		bad  bool
	}{
		{in: "Customer=acme", want: client.AttributeFilter{Name: "Customer", Op: client.OpEqual, Value: "acme"}},
		{in: "Amount>=100", want: client.AttributeFilter{Name: "Amount", Op: client.OpGreaterOrEqual, Value: "100"}},
		{in: "Note~late", want: client.AttributeFilter{Name: "Note", Op: client.OpContains, Value: "late"}},
		{in: "Tier!=gold", want: client.AttributeFilter{Name: "Tier", Op: client.OpNotEqual, Value: "gold"}},
		{in: "=x", bad: true},
		{in: "novalue", bad: true},
	}
	for _, tt := range tests {
		got, err := client.ParseAttributeFilter(tt.in)
		if tt.bad {
			if !errors.Is(err, client.ErrInvalidArgument) {
				t.Errorf("%q: %+v, %v; want ErrInvalidArgument", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func Double(_ workflow.Context, n int) (int, error) {
	if n < 0 {
		return 0, failure.NonRetryable("negative input", "Negative")
	}
	return 2 * n, nil
}

// TestStartOnServer exercises the client against a real server: start and
// result, start options checked before anything is stored, the reuse
// policy, a failed run's typed error and describe.
func TestStartOnServer(t *testing.T) {
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Double) })
	c, err := client.New(context.Background(), env.Conn(), client.WithNamespace(env.Namespace()),
		client.WithLogger(slog.New(slog.DiscardHandler)), client.WithIdentity("client-test"), client.WithMaxPayload(1024))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	run, err := c.Start(ctx, client.StartOptions{ID: "double-1", WorkflowIDReusePolicy: client.WorkflowIDReusePolicyRejectDuplicate,
		WorkflowExecutionTimeout: time.Minute}, Double, 21)
	if err != nil || !run.Created {
		t.Fatalf("start: %+v, %v", run, err)
	}
	var got int
	if err := run.Get(ctx, &got); err != nil || got != 42 {
		t.Fatalf("result %d, %v", got, err)
	}
	if _, err := c.Start(ctx, client.StartOptions{ID: "double-1", WorkflowIDReusePolicy: client.WorkflowIDReusePolicyRejectDuplicate}, Double, 1); !errors.Is(err, client.ErrAlreadyExists) {
		t.Fatalf("restart under RejectDuplicate: %v", err)
	}
	if _, err := c.Start(ctx, client.StartOptions{ID: "double-1"}, Double, 2); err != nil {
		t.Fatalf("restart under AllowDuplicate: %v", err)
	}

	for name, opts := range map[string]client.StartOptions{
		"negative timeout": {ID: "bad-1", WorkflowExecutionTimeout: -time.Second},
		"unknown policy":   {ID: "bad-2", WorkflowIDReusePolicy: 9},
	} {
		if _, err := c.Start(ctx, opts, Double, 1); !errors.Is(err, client.ErrInvalidOption) || !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("%s: %v; want ErrInvalidOption and ErrInvalidArgument", name, err)
		}
		if _, err := c.Describe(ctx, opts.ID, ""); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("%s: something was stored: %v", name, err)
		}
	}
	if _, err := c.Start(ctx, client.StartOptions{}, Double, strings.Repeat("x", 2048)); !errors.Is(err, client.ErrPayloadTooLarge) {
		t.Errorf("oversized input: %v", err)
	}
	if _, err := c.Start(ctx, client.StartOptions{}, "NeverRegistered", 1); !errors.Is(err, client.ErrUnknownWorkflowType) {
		t.Errorf("unknown type: %v", err)
	}

	run, err = c.Start(ctx, client.StartOptions{ID: "double-neg"}, Double, -1)
	if err != nil {
		t.Fatal(err)
	}
	var wfErr *failure.WorkflowError
	var app *failure.ApplicationError
	err = run.Get(ctx, nil)
	if !errors.As(err, &wfErr) || !errors.As(err, &app) || app.Type != "Negative" || app.Message != "negative input" || !app.NonRetryable {
		t.Fatalf("failed run: %v", err)
	}
	d, err := c.Describe(ctx, "double-neg", "")
	if err != nil || d.WorkflowType != "Double" || d.Cost == nil || d.Cost.StateTransitions < 2 {
		t.Fatalf("describe: %+v, %v", d, err)
	}
}
