package bindings_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/cairnhq/cairn/bindings"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Quote is what the pricing service returns.
type Quote struct {
	Item  string `json:"item"`
	Cents int    `json:"cents"`
}

// QuoteInput names the activity type and item to price.
type QuoteInput struct {
	Activity string `json:"activity"`
	Item     string `json:"item"`
}

// PriceWorkflow calls a service-bound activity: 300 ms per attempt, up to 3
// attempts.
func PriceWorkflow(ctx workflow.Context, in QuoteInput) (Quote, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 300 * time.Millisecond,
		RetryPolicy:         &workflow.RetryPolicy{InitialInterval: 50 * time.Millisecond, MaximumAttempts: 3},
	})
	return workflow.ExecuteActivityByName[Quote](ctx, in.Activity, in.Item).Get(ctx)
}

// TextWorkflow calls the "Text" activity, served by a standalone runner.
func TextWorkflow(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Second})
	return workflow.ExecuteActivityByName[string](ctx, "Text", in).Get(ctx)
}

func TestServiceBinding(t *testing.T) {
	env := testenv.New(t)
	svcConn := env.NewConn(t)

	// An ordinary micro service: the first call is too slow (a timeout),
	// the second fails, the third answers.
	var calls atomic.Int32
	var lastHeaders atomic.Value
	svc, err := micro.AddService(svcConn, micro.Config{Name: "pricing", Version: "1.0.0",
		Endpoint: &micro.EndpointConfig{Subject: "pricing.quote", Handler: micro.HandlerFunc(func(r micro.Request) {
			lastHeaders.Store(r.Headers())
			switch calls.Add(1) {
			case 1:
				time.Sleep(600 * time.Millisecond)
				_ = r.RespondJSON(Quote{Item: "late", Cents: 1})
			case 2:
				_ = r.Error("503", "warming up", nil)
			default:
				var item string
				if err := json.Unmarshal(r.Data(), &item); err != nil {
					_ = r.Error("400", err.Error(), nil)
					return
				}
				_ = r.RespondJSON(Quote{Item: item, Cents: 1299})
			}
		})}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	// A service that rejects its input (non-retryable) and one that
	// answers plain text.
	if _, err := micro.AddService(svcConn, micro.Config{Name: "strict", Version: "1.0.0",
		Endpoint: &micro.EndpointConfig{Subject: "strict.quote", Handler: micro.HandlerFunc(func(r micro.Request) {
			_ = r.Error("422", "unknown item", []byte(`{"item":"?"}`))
		})}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svcConn.QueueSubscribe("text.quote", "q", func(m *nats.Msg) { _ = m.Respond([]byte("forty-two")) }); err != nil {
		t.Fatal(err)
	}

	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(PriceWorkflow)
		w.RegisterWorkflow(TextWorkflow)
		w.RegisterActivityHandler("Price", bindings.ServiceHandler(env.NewConn(t), "pricing.quote"))
		w.RegisterActivityHandler("Strict", bindings.ServiceHandler(env.NewConn(t), "strict.quote"))
		w.RegisterActivityHandler("Nobody", bindings.ServiceHandler(env.NewConn(t), "nobody.listens"))
	})
	// A standalone runner, as cairn server runs them.
	r, err := bindings.NewServiceRunner(env.NewConn(t), env.Names(), "default", "Text", "text.quote", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	c := env.Client(t)
	start := func(id, activity string) *client.WorkflowRun {
		run, err := c.Start(t.Context(), client.StartOptions{ID: id}, PriceWorkflow, QuoteInput{Activity: activity, Item: "book"})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()

	t.Run("timeout and retry", func(t *testing.T) {
		var q Quote
		if err := start("price-1", "Price").Get(wctx, &q); err != nil {
			t.Fatal(err)
		}
		if q != (Quote{Item: "book", Cents: 1299}) {
			t.Fatalf("quote %+v", q)
		}
		evs, err := c.History(wctx, "price-1", "")
		if err != nil {
			t.Fatal(err)
		}
		var causes []string
		for _, ev := range evs {
			if a, ok := ev.Attributes.(*history.ActivityRetrying); ok {
				causes = append(causes, a.Failure.Type)
			}
		}
		if len(causes) != 2 || causes[0] != history.FailureTimeout || causes[1] != bindings.FailureServiceError {
			t.Fatalf("retries caused by %v, want a timeout then a service error", causes)
		}
		h := lastHeaders.Load().(micro.Headers)
		if h.Get("Cairn-Workflow-Id") != "price-1" || h.Get("Cairn-Attempt") != "3" {
			t.Fatalf("request headers %v", h)
		}
	})
	t.Run("non-retryable error reply", func(t *testing.T) {
		err := start("price-2", "Strict").Get(wctx, nil)
		var ae *failure.ApplicationError
		if !errors.As(err, &ae) || ae.Type != bindings.FailureServiceError || !ae.NonRetryable {
			t.Fatalf("err %v", err)
		}
		evs, _ := c.History(wctx, "price-2", "")
		for _, ev := range evs {
			if ev.Type == history.TypeActivityRetrying {
				t.Fatal("a 4xx reply was retried")
			}
		}
	})
	t.Run("no responders", func(t *testing.T) {
		err := start("price-3", "Nobody").Get(wctx, nil)
		var ae *failure.ApplicationError
		if !errors.As(err, &ae) || ae.Type != bindings.FailureNoResponders {
			t.Fatalf("err %v", err)
		}
		evs, _ := c.History(wctx, "price-3", "")
		n := 0
		for _, ev := range evs {
			if ev.Type == history.TypeActivityRetrying {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%d retries, want 2", n)
		}
	})
	t.Run("plain text reply", func(t *testing.T) {
		var s string
		run, err := c.Start(t.Context(), client.StartOptions{ID: "price-4"}, TextWorkflow, "x")
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Get(wctx, &s); err != nil || s != "forty-two" {
			t.Fatalf("%q %v", s, err)
		}
	})
}
