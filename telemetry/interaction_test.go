package telemetry_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

func Kid(ctx workflow.Context, n int) (int, error) { return n * 2, nil }

var handed sync.Map

// Family runs a child, then waits for a callback.
func Family(ctx workflow.Context, n int) (string, error) {
	if _, err := workflow.ExecuteChildWorkflow(ctx, Kid, n).Get(ctx); err != nil {
		return "", err
	}
	return workflow.WaitForCallback[string](ctx, "approval", func(token string) error {
		handed.Store(workflow.GetInfo(ctx).WorkflowID, token)
		return nil
	}, workflow.CallbackOptions{Timeout: time.Hour})
}

// TestChildAndCallbackSpans: a child's execution is traced under the
// parent's task that started it, and a callback's completion is a span
// linked to the code that completed it.
func TestChildAndCallbackSpans(t *testing.T) {
	env := testenv.New(t)
	exp := tracetest.NewInMemoryExporter()
	tpClient, tpWorker := process(t, exp, "client"), process(t, exp, "w")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(Family)
		w.RegisterWorkflow(Kid)
	}, worker.WithTracerProvider(tpWorker))
	c, err := client.New(ctx, env.Conn(), client.WithTracerProvider(tpClient))
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Start(ctx, client.StartOptions{ID: "family"}, Family, 2)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	testutil.EventuallyTrue(t, time.Minute, func() bool {
		v, ok := handed.Load("family")
		if ok {
			token = v.(string)
		}
		return ok
	}, "the callback token was handed out")
	cbCtx, approver := tpClient.Tracer("test").Start(ctx, "approver")
	if err := c.CompleteCallback(cbCtx, token, "yes"); err != nil {
		t.Fatal(err)
	}
	approver.End()
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	spans := waitSpans(t, ctx, exp, func(s tracetest.SpanStubs) bool {
		return count(s, "Workflow Family") == 1 && count(s, "Workflow Kid") == 1 && count(s, "Callback") == 1
	})
	byID := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID().String()] = s
	}
	var approverID string
	for _, s := range spans {
		if s.Name == "approver" {
			approverID = s.SpanContext.SpanID().String()
		}
	}
	for _, s := range spans {
		switch {
		case s.Name == "Workflow Kid":
			parent, ok := byID[s.Parent.SpanID().String()]
			if !ok || !strings.HasPrefix(parent.Name, "WorkflowTask Family") {
				t.Errorf("child execution's parent is %q, want the parent's workflow task", parent.Name)
			}
		case strings.HasPrefix(s.Name, "Callback"):
			if s.Name != "Callback approval" {
				t.Errorf("callback span named %q", s.Name)
			}
			if len(s.Links) != 1 || s.Links[0].SpanContext.SpanID().String() != approverID {
				t.Errorf("callback span links %v, want the approver %s", s.Links, approverID)
			}
		}
	}
}
