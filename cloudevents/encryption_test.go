package cloudevents_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
)

// With WithDataConverter the ingress records event data encrypted, so
// workers that refuse clear payloads run workflows started and signalled
// by events.
func TestIngressEncryptsInputs(t *testing.T) {
	key := make([]byte, converter.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	keys, err := converter.NewKeys("k1", map[string][]byte{"k1": key})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(Echo)
		w.RegisterWorkflow(Approve)
	}, worker.WithDataConverter(dc))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cl, err := client.New(ctx, env.Conn(), client.WithDataConverter(dc))
	if err != nil {
		t.Fatal(err)
	}
	in, err := cloudevents.NewIngress(ctx, env.NewConn(t), cl, cloudevents.WithDataConverter(dc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []cloudevents.Trigger{
		{Name: "orders", Type: "com.example.order.created", WorkflowType: "Echo", WorkflowID: "order-{{.data.id}}"},
		{Name: "decisions", Kind: cloudevents.KindSignal, Type: "com.example.decision", SignalName: "decision"},
	} {
		if err := in.Store().Put(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	testutil.EventuallyTrue(t, waitFor, func() bool { return in.TriggerCount() == 2 }, "both triggers are loaded")
	if _, err := in.Process(ctx, newEvent("e-1", "urn:shop", "com.example.order.created", Order{ID: "sealed", Cents: 777})); err != nil {
		t.Fatal(err)
	}
	var got Order
	if err := cl.Result(ctx, "order-sealed", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != (Order{ID: "sealed", Cents: 777}) {
		t.Fatalf("result %+v", got)
	}

	if _, err := cl.Start(ctx, client.StartOptions{ID: "approval-sealed"}, Approve, "x"); err != nil {
		t.Fatal(err)
	}
	for i, d := range []string{"approve-confidential", "ship-confidential"} {
		ev := newEvent(fmt.Sprintf("d-%d", i), "urn:reviews", "com.example.decision", d)
		ev.SetSubject("approval-sealed")
		if _, err := in.Process(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	var decisions []string
	if err := cl.Result(ctx, "approval-sealed", "", &decisions); err != nil {
		t.Fatal(err)
	}
	if strings.Join(decisions, "|") != "approve-confidential|ship-confidential" {
		t.Fatalf("decisions %q", decisions)
	}

	for _, id := range []string{"order-sealed", "approval-sealed"} {
		evs, err := cl.History(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			var p []byte
			switch a := ev.Attributes.(type) {
			case *history.WorkflowStarted:
				p = a.Input
			case *history.SignalReceived:
				p = a.Payload
			default:
				continue
			}
			if _, ok := converter.EnvelopeKeyID(p); !ok || bytes.Contains(p, []byte("confidential")) || bytes.Contains(p, []byte("777")) {
				t.Fatalf("%s event %d %s: payload %s is not encrypted", id, ev.Seq, ev.Type, p)
			}
		}
	}
}
