package bindings_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/bindings"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
)

func encryptingConverter(t *testing.T, kid string) converter.DataConverter {
	t.Helper()
	key := make([]byte, converter.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	keys, err := converter.NewKeys(kid, map[string][]byte{kid: key})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// With the namespace's converter a binding hands the service clear JSON and
// records its reply encrypted; with another key it fails for good, naming
// the key, instead of forwarding ciphertext.
func TestServiceBindingWithEncryption(t *testing.T) {
	env := testenv.New(t)
	dc := encryptingConverter(t, "k1")
	svcConn := env.NewConn(t)
	seen := make(chan []byte, 4)
	if _, err := svcConn.Subscribe("sealed.quote", func(m *nats.Msg) {
		seen <- m.Data
		var item string
		if err := json.Unmarshal(m.Data, &item); err != nil {
			_ = m.Respond([]byte(`"bad input"`))
			return
		}
		_ = m.Respond([]byte(`{"item":"` + item + `","cents":4200}`))
	}); err != nil {
		t.Fatal(err)
	}
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(PriceWorkflow)
		w.RegisterActivityHandler("Sealed", bindings.ServiceHandler(env.NewConn(t), "sealed.quote", bindings.WithDataConverter(dc)))
		w.RegisterActivityHandler("WrongKey", bindings.ServiceHandler(env.NewConn(t), "sealed.quote",
			bindings.WithDataConverter(encryptingConverter(t, "k2"))))
	}, worker.WithDataConverter(dc))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := client.New(ctx, env.Conn(), client.WithNamespace(env.Namespace()), client.WithDataConverter(dc))
	if err != nil {
		t.Fatal(err)
	}

	run, err := c.Start(ctx, client.StartOptions{ID: "sealed-price"}, PriceWorkflow, QuoteInput{Activity: "Sealed", Item: "atlas"})
	if err != nil {
		t.Fatal(err)
	}
	var q Quote
	if err := run.Get(ctx, &q); err != nil {
		t.Fatal(err)
	}
	if q != (Quote{Item: "atlas", Cents: 4200}) {
		t.Fatalf("quote %+v", q)
	}
	if got := <-seen; string(got) != `"atlas"` {
		t.Fatalf("the service received %s, want the clear input", got)
	}
	evs, err := c.History(ctx, run.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if a, ok := ev.Attributes.(*history.ActivityCompleted); ok {
			if _, sealed := converter.EnvelopeKeyID(a.Result); !sealed || bytes.Contains(a.Result, []byte("atlas")) {
				t.Fatalf("activity result recorded as %s, want an envelope", a.Result)
			}
		}
	}

	run, err = c.Start(ctx, client.StartOptions{ID: "wrong-key"}, PriceWorkflow, QuoteInput{Activity: "WrongKey", Item: "atlas"})
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, &q)
	var app *failure.ApplicationError
	if !errors.As(err, &app) || app.Type != bindings.FailureDecode || !app.NonRetryable || !strings.Contains(app.Message, `"k1"`) {
		t.Fatalf("binding with the wrong key: %v; want a non-retryable %s naming k1", err, bindings.FailureDecode)
	}
}
