package cloudevents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	cenats "github.com/cloudevents/sdk-go/protocol/nats/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

const waitFor = 30 * time.Second

// Order is the input of the test workflow.
type Order struct {
	ID    string `json:"id"`
	Cents int    `json:"cents"`
}

// Echo returns its input.
func Echo(ctx workflow.Context, o Order) (Order, error) { return o, nil }

// Approve waits for two "decision" events and returns them in order.
func Approve(ctx workflow.Context, _ string) ([]string, error) {
	var got []string
	for range 2 {
		d, err := workflow.ReceiveSignal[string](ctx, "decision")
		if err != nil {
			return nil, err
		}
		got = append(got, d)
	}
	return got, nil
}

type harness struct {
	env     *testenv.Env
	cl      *client.Client
	ingress *cloudevents.Ingress
	http    *httptest.Server
}

func newHarness(t *testing.T, workerOpts ...worker.Option) *harness {
	t.Helper()
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(Echo)
		w.RegisterWorkflow(Approve)
	}, workerOpts...)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cl, err := client.New(ctx, env.Conn())
	if err != nil {
		t.Fatal(err)
	}
	in, err := cloudevents.NewIngress(ctx, env.NewConn(t), cl, cloudevents.WithMaxEventSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []cloudevents.Trigger{
		{Name: "orders", Type: "com.example.order.created", WorkflowType: "Echo"},
		{Name: "orders-by-id", TypePrefix: "com.example.order.keyed.", WorkflowType: "Echo", WorkflowID: "order-{{.data.id}}", InputField: "order"},
		{Name: "decisions", Kind: cloudevents.KindSignal, Type: "com.example.decision", SignalName: "decision"},
	} {
		if err := in.Store().Put(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- in.Serve(ctx) }()
	select {
	case <-in.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("ingress not ready")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	srv := httptest.NewServer(in.Handler())
	t.Cleanup(srv.Close)
	h := &harness{env: env, cl: cl, ingress: in, http: srv}
	h.waitTriggers(t, 3)
	return h
}

// waitTriggers waits until the ingress's watcher has loaded n triggers:
// a put reaches the watcher some time later, each trigger on its own.
func (h *harness) waitTriggers(t *testing.T, n int) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() error {
		if got := h.ingress.TriggerCount(); got < n {
			return fmt.Errorf("%d of %d triggers loaded", got, n)
		}
		return nil
	})
}

func newEvent(id, source, typ string, data any) *event.Event {
	ev := event.New()
	ev.SetID(id)
	ev.SetSource(source)
	ev.SetType(typ)
	if data != nil {
		if err := ev.SetData(event.ApplicationJSON, data); err != nil {
			panic(err)
		}
	}
	return &ev
}

// result waits for the run of id to exist and close, and decodes its result.
func (h *harness) result(t *testing.T, id string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	// The run may not exist yet: the event that starts it is in flight.
	testutil.Eventually(t, waitFor, func() error {
		err := h.cl.Result(ctx, id, "", v)
		if err != nil && !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("result of %s: %v", id, err)
		}
		return err
	})
}

func (h *harness) request(t *testing.T, msg *nats.Msg) *nats.Msg {
	t.Helper()
	reply, err := h.env.Conn().RequestMsg(msg, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

func accepted(t *testing.T, reply *nats.Msg) cloudevents.Accepted {
	t.Helper()
	if c := reply.Header.Get(cloudevents.HeaderRejectCode); c != "" {
		t.Fatalf("rejected: %s: %s", c, reply.Data)
	}
	var acc cloudevents.Accepted
	if err := json.Unmarshal(reply.Data, &acc); err != nil {
		t.Fatalf("reply %q: %v", reply.Data, err)
	}
	return acc
}

func TestNATSBinaryStartsWorkflow(t *testing.T) {
	h := newHarness(t)
	ev := newEvent("evt-1", "urn:shop", "com.example.order.created", Order{ID: "1", Cents: 100})
	msg, err := cloudevents.NewNATSMsg(t.Context(), cloudevents.EventsSubject("default", "orders"), ev, true)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("ce-type") != "com.example.order.created" || msg.Header.Get("content-type") != event.ApplicationJSON {
		t.Fatalf("not binary mode: %v", msg.Header)
	}
	acc := accepted(t, h.request(t, msg))
	want := cloudevents.DerivedWorkflowID("orders", "urn:shop", "evt-1")
	if len(acc.Outcomes) != 1 || acc.Outcomes[0].WorkflowID != want || !acc.Outcomes[0].Created {
		t.Fatalf("outcomes %+v", acc.Outcomes)
	}
	var got Order
	h.result(t, want, &got)
	if got != (Order{ID: "1", Cents: 100}) {
		t.Fatalf("result %+v", got)
	}
}

func TestNATSBinaryHandWritten(t *testing.T) {
	// What a non-Go publisher sends: headers in any case.
	h := newHarness(t)
	msg := nats.NewMsg(cloudevents.EventsSubject("default", "x"))
	msg.Header.Set("Ce-Specversion", "1.0")
	msg.Header.Set("Ce-Id", "hand-1")
	msg.Header.Set("Ce-Source", "urn:nats-cli")
	msg.Header.Set("Ce-Type", "com.example.order.keyed.v1")
	msg.Data = []byte(`{"id":"77","order":{"id":"77","cents":5}}`)
	acc := accepted(t, h.request(t, msg))
	if acc.Outcomes[0].WorkflowID != "order-77" {
		t.Fatalf("outcomes %+v", acc.Outcomes)
	}
	var got Order
	h.result(t, "order-77", &got)
	if got != (Order{ID: "77", Cents: 5}) {
		t.Fatalf("result %+v", got)
	}
}

func TestNATSStructuredStartsWorkflow(t *testing.T) {
	h := newHarness(t)
	// The official CloudEvents NATS binding as the publisher.
	sender, err := cenats.NewSenderFromConn(h.env.Conn(), cloudevents.EventsSubject("default", "orders"))
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvent("evt-2", "urn:shop", "com.example.order.created", Order{ID: "2", Cents: 200})
	if err := sender.Send(t.Context(), binding.ToMessage(ev)); err != nil {
		t.Fatal(err)
	}
	var got Order
	h.result(t, cloudevents.DerivedWorkflowID("orders", "urn:shop", "evt-2"), &got)
	if got != (Order{ID: "2", Cents: 200}) {
		t.Fatalf("result %+v", got)
	}
	// And with a reply.
	msg, err := cloudevents.NewNATSMsg(t.Context(), cloudevents.EventsSubject("default", "orders"),
		newEvent("evt-3", "urn:shop", "com.example.order.created", Order{ID: "3"}), false)
	if err != nil {
		t.Fatal(err)
	}
	if cloudevents.IsBinaryNATS(msg) {
		t.Fatal("structured message looks binary")
	}
	if acc := accepted(t, h.request(t, msg)); !acc.Outcomes[0].Created {
		t.Fatalf("outcomes %+v", acc.Outcomes)
	}
}

func (h *harness) post(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := h.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestHTTPModesStartWorkflows(t *testing.T) {
	h := newHarness(t)
	url := h.http.URL + cloudevents.EventsPath

	t.Run("binary", func(t *testing.T) {
		ctx := binding.WithForceBinary(t.Context())
		req, err := cehttp.NewHTTPRequestFromEvent(ctx, url, *newEvent("h-1", "urn:web", "com.example.order.created", Order{ID: "h1"}))
		if err != nil {
			t.Fatal(err)
		}
		if req.Header.Get("Ce-Type") == "" {
			t.Fatal("not binary")
		}
		if code, body := h.post(t, req); code != http.StatusAccepted {
			t.Fatalf("%d %s", code, body)
		}
		var got Order
		h.result(t, cloudevents.DerivedWorkflowID("orders", "urn:web", "h-1"), &got)
		if got.ID != "h1" {
			t.Fatalf("result %+v", got)
		}
	})
	t.Run("structured", func(t *testing.T) {
		body, _ := json.Marshal(newEvent("h-2", "urn:web", "com.example.order.created", Order{ID: "h2"}))
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
		if code, body := h.post(t, req); code != http.StatusAccepted {
			t.Fatalf("%d %s", code, body)
		}
		var got Order
		h.result(t, cloudevents.DerivedWorkflowID("orders", "urn:web", "h-2"), &got)
		if got.ID != "h2" {
			t.Fatalf("result %+v", got)
		}
	})
	t.Run("batch", func(t *testing.T) {
		req, err := cehttp.NewHTTPRequestFromEvents(t.Context(), url, []event.Event{
			*newEvent("b-1", "urn:web", "com.example.order.created", Order{ID: "b1"}),
			*newEvent("b-2", "urn:web", "com.example.order.created", Order{ID: "b2"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		code, body := h.post(t, req)
		if code != http.StatusAccepted {
			t.Fatalf("%d %s", code, body)
		}
		for _, id := range []string{"b-1", "b-2"} {
			var got Order
			h.result(t, cloudevents.DerivedWorkflowID("orders", "urn:web", id), &got)
			if got.ID != strings.ReplaceAll(id, "-", "") {
				t.Fatalf("result %+v", got)
			}
		}
		// A batch with a malformed event is rejected whole: 400 naming
		// the bad event, and the good one is not processed.
		req, _ = http.NewRequest(http.MethodPost, url, strings.NewReader(
			`[{"specversion":"1.0","id":"b-3","source":"urn:web","type":"com.example.order.created","data":{"id":"b3"}},{"specversion":"1.0","id":"b-4"}]`))
		req.Header.Set("Content-Type", event.ApplicationCloudEventsBatchJSON)
		code, body = h.post(t, req)
		var p cloudevents.Problem
		if code != http.StatusBadRequest || json.Unmarshal(body, &p) != nil || p.Code != cloudevents.CodeInvalid ||
			len(p.Events) != 1 || p.Events[0].Index != 1 || p.Events[0].Error == nil {
			t.Fatalf("%d %s", code, body)
		}
		// A batch whose events are valid but one matches no trigger: 400
		// with the answer per event, the accepted one processed.
		req, _ = http.NewRequest(http.MethodPost, url, strings.NewReader(
			`[{"specversion":"1.0","id":"b-5","source":"urn:web","type":"com.example.order.created","data":{"id":"b5"}},{"specversion":"1.0","id":"b-6","source":"urn:web","type":"com.example.unknown"}]`))
		req.Header.Set("Content-Type", event.ApplicationCloudEventsBatchJSON)
		code, body = h.post(t, req)
		p = cloudevents.Problem{}
		if code != http.StatusBadRequest || json.Unmarshal(body, &p) != nil || len(p.Events) != 2 || p.Events[0].Error != nil || p.Events[1].Error == nil {
			t.Fatalf("%d %s", code, body)
		}
		var got Order
		h.result(t, cloudevents.DerivedWorkflowID("orders", "urn:web", "b-5"), &got)
	})
	t.Run("rejected", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"hello":"world"}`))
		req.Header.Set("Content-Type", "application/json")
		code, body := h.post(t, req)
		var p cloudevents.Problem
		if code != http.StatusBadRequest || json.Unmarshal(body, &p) != nil || p.Code != cloudevents.CodeInvalid || p.Detail == "" {
			t.Fatalf("%d %s", code, body)
		}
	})
}

func TestDuplicateDeliveryStartsOnce(t *testing.T) {
	h := newHarness(t)
	ev := newEvent("dup-1", "urn:shop", "com.example.order.created", Order{ID: "dup"})
	created := 0
	for i := range 6 {
		msg, err := cloudevents.NewNATSMsg(t.Context(), cloudevents.EventsSubject("default", "orders"), ev, i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		acc := accepted(t, h.request(t, msg))
		if acc.Outcomes[0].Created {
			created++
		}
		if i == 2 {
			// Also after the run completed.
			var got Order
			h.result(t, acc.Outcomes[0].WorkflowID, &got)
		}
	}
	req, _ := cehttp.NewHTTPRequestFromEvent(t.Context(), h.http.URL+cloudevents.EventsPath, *ev)
	if code, body := h.post(t, req); code != http.StatusAccepted || strings.Contains(string(body), `"created":true`) {
		t.Fatalf("%d %s", code, body)
	}
	if created != 1 {
		t.Fatalf("%d deliveries created a run, want 1", created)
	}
	sums, err := h.cl.List(t.Context(), client.ListOptions{WorkflowType: "Echo"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range sums {
		if s.WorkflowID == cloudevents.DerivedWorkflowID("orders", "urn:shop", "dup-1") {
			n++
		}
	}
	evs, err := h.cl.History(t.Context(), cloudevents.DerivedWorkflowID("orders", "urn:shop", "dup-1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(evs) == 0 || evs[len(evs)-1].Type != history.TypeWorkflowCompleted {
		t.Fatalf("%d summaries, history %v", n, evs)
	}
}

func TestMalformedEventsAreRejected(t *testing.T) {
	h := newHarness(t)
	nc := h.env.Conn()
	rejected := make(chan *nats.Msg, 2000)
	sub, err := nc.ChanSubscribe(cloudevents.RejectedSubject("default"), rejected)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	before, err := h.cl.List(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}

	big := strings.Repeat("x", 70<<10)
	kinds := []func(i int) *nats.Msg{
		func(i int) *nats.Msg { // not JSON at all
			return &nats.Msg{Data: []byte(fmt.Sprintf("garbage %d", i))}
		},
		func(i int) *nats.Msg { // structured without a type
			return &nats.Msg{Data: []byte(fmt.Sprintf(`{"specversion":"1.0","id":"m%d","source":"urn:bad"}`, i))}
		},
		func(i int) *nats.Msg { // binary without a source
			m := nats.NewMsg("")
			m.Header.Set("ce-specversion", "1.0")
			m.Header.Set("ce-id", fmt.Sprint(i))
			m.Header.Set("ce-type", "com.example.order.created")
			return m
		},
		func(i int) *nats.Msg { // unknown type
			m := nats.NewMsg("")
			m.Header.Set("ce-specversion", "1.0")
			m.Header.Set("ce-id", fmt.Sprint(i))
			m.Header.Set("ce-source", "urn:bad")
			m.Header.Set("ce-type", "com.example.unknown")
			m.Data = []byte(`{}`)
			return m
		},
		func(i int) *nats.Msg { // data that does not decode
			m := nats.NewMsg("")
			m.Header.Set("ce-specversion", "1.0")
			m.Header.Set("ce-id", fmt.Sprint(i))
			m.Header.Set("ce-source", "urn:bad")
			m.Header.Set("ce-type", "com.example.order.created")
			m.Header.Set("content-type", "application/json")
			m.Data = []byte(`{"id":`)
			return m
		},
		func(i int) *nats.Msg { // missing input field
			m := nats.NewMsg("")
			m.Header.Set("ce-specversion", "1.0")
			m.Header.Set("ce-id", fmt.Sprint(i))
			m.Header.Set("ce-source", "urn:bad")
			m.Header.Set("ce-type", "com.example.order.keyed.v1")
			m.Data = []byte(`{"id":"1"}`)
			return m
		},
		func(i int) *nats.Msg { // oversize
			m := nats.NewMsg("")
			m.Header.Set("ce-specversion", "1.0")
			m.Header.Set("ce-id", fmt.Sprint(i))
			m.Header.Set("ce-source", "urn:bad")
			m.Header.Set("ce-type", "com.example.order.created")
			m.Data = []byte(`"` + big + `"`)
			return m
		},
		func(i int) *nats.Msg { // a non-JSON content type
			m := nats.NewMsg("")
			m.Header.Set("ce-specversion", "1.0")
			m.Header.Set("ce-id", fmt.Sprint(i))
			m.Header.Set("ce-source", "urn:bad")
			m.Header.Set("ce-type", "com.example.order.created")
			m.Header.Set("content-type", "text/plain")
			m.Data = []byte(`hello`)
			return m
		},
	}
	const total = 1000
	replies := make(chan *nats.Msg, total)
	inbox := nats.NewInbox()
	rsub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		t.Fatal(err)
	}
	defer rsub.Unsubscribe()
	for i := range total {
		m := kinds[i%len(kinds)](i)
		m.Subject = cloudevents.EventsSubject("default", fmt.Sprintf("bad.%d", i%7))
		if i%2 == 0 {
			m.Reply = inbox // half of them ask for an answer
		}
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	codes := map[string]int{}
	timeout := time.After(waitFor)
	for i := range total {
		select {
		case m := <-rejected:
			if m.Header.Get(cloudevents.HeaderRejectReason) == "" || m.Header.Get(cloudevents.HeaderRejectCode) == "" ||
				!strings.HasPrefix(m.Header.Get(cloudevents.HeaderOriginalSubject), "cairn.default.events.bad.") {
				t.Fatalf("rejected copy without reason: %v", m.Header)
			}
			codes[m.Header.Get(cloudevents.HeaderRejectCode)]++
		case <-timeout:
			t.Fatalf("%d rejections after %s, want %d (%v)", i, waitFor, total, codes)
		}
	}
	for i := range total / 2 {
		select {
		case m := <-replies:
			var p cloudevents.Problem
			if m.Header.Get(cloudevents.HeaderRejectCode) == "" || json.Unmarshal(m.Data, &p) != nil || p.Detail == "" {
				t.Fatalf("reply %v %s", m.Header, m.Data)
			}
		case <-timeout:
			t.Fatalf("%d replies, want %d", i, total/2)
		}
	}
	for _, c := range []string{cloudevents.CodeInvalid, cloudevents.CodeNoTrigger, cloudevents.CodeBadData, cloudevents.CodeTooLarge} {
		if codes[c] == 0 {
			t.Errorf("no rejection with code %s: %v", c, codes)
		}
	}
	select {
	case m := <-rejected:
		t.Fatalf("extra rejection: %v", m.Header)
	case <-time.After(200 * time.Millisecond):
	}
	after, err := h.cl.List(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d instances before, %d after", len(before), len(after))
	}
}

func TestLifecycleEventsInOrder(t *testing.T) {
	env := testenv.New(t)
	nc := env.Conn()
	pub := cloudevents.NewLifecyclePublisher(env.NewConn(t), "default", nil)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Echo) },
		pub.WorkerOption())
	msgs := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe("cairn.default.lifecycle.>", msgs)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cl := env.Client(t)
	ids := []string{"life-1", "life-2", "life-3"}
	for _, id := range ids {
		if _, err := cl.Start(t.Context(), client.StartOptions{ID: id, TaskQueue: "default"}, Echo, Order{ID: id, Cents: 1}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string][]string{}
	timeout := time.After(waitFor)
	for n := 0; n < 2*len(ids); n++ {
		select {
		case m := <-msgs:
			ev, err := cloudevents.EventFromNATS(t.Context(), m)
			if err != nil {
				t.Fatal(err)
			}
			kind := strings.TrimPrefix(ev.Type(), cloudevents.LifecycleTypePrefix)
			if m.Subject != "cairn.default.lifecycle."+kind+".Echo" {
				t.Fatalf("subject %s for %s", m.Subject, ev.Type())
			}
			seen[ev.Subject()] = append(seen[ev.Subject()], kind)
			if kind == "completed" {
				var o Order
				if err := ev.DataAs(&o); err != nil || o.ID != ev.Subject() {
					t.Fatalf("completed data %s: %v", ev.Data(), err)
				}
				if ev.Extensions()[cloudevents.ExtWorkflowType] != "Echo" {
					t.Fatalf("extensions %v", ev.Extensions())
				}
			}
		case <-timeout:
			t.Fatalf("lifecycle events after %s: %v", waitFor, seen)
		}
	}
	for _, id := range ids {
		if got := strings.Join(seen[id], ","); got != "started,completed" {
			t.Fatalf("%s: %s", id, got)
		}
	}
}

func TestSignalTrigger(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	if _, err := h.cl.Start(ctx, client.StartOptions{ID: "approval-1"}, Approve, "x"); err != nil {
		t.Fatal(err)
	}
	send := func(id, decision string, binary bool) cloudevents.Accepted {
		ev := newEvent(id, "urn:reviews", "com.example.decision", decision)
		ev.SetSubject("approval-1")
		msg, err := cloudevents.NewNATSMsg(ctx, cloudevents.EventsSubject("default", "decisions"), ev, binary)
		if err != nil {
			t.Fatal(err)
		}
		return accepted(t, h.request(t, msg))
	}
	acc := send("d-1", "looks good", true)
	if acc.Outcomes[0].Kind != cloudevents.KindSignal || acc.Outcomes[0].WorkflowID != "approval-1" {
		t.Fatalf("outcomes %+v", acc.Outcomes)
	}
	send("d-1", "looks good", false) // re-delivered: raised once
	send("d-2", "ship it", true)
	var got []string
	h.result(t, "approval-1", &got)
	if strings.Join(got, "|") != "looks good|ship it" {
		t.Fatalf("result %q", got)
	}
	// No such instance: rejected.
	ev := newEvent("d-3", "urn:reviews", "com.example.decision", "late")
	ev.SetSubject("no-such-approval")
	msg, _ := cloudevents.NewNATSMsg(ctx, cloudevents.EventsSubject("default", "decisions"), ev, true)
	if r := h.request(t, msg); r.Header.Get(cloudevents.HeaderRejectCode) != cloudevents.CodeNotRunning {
		t.Fatalf("reply %v %s", r.Header, r.Data)
	}
}

func TestTraceParentContinuesTrace(t *testing.T) {
	h := newHarness(t)
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ev := newEvent("tr-1", "urn:shop", "com.example.order.created", Order{ID: "tr"})
	ev.SetExtension("traceparent", tp)
	msg, _ := cloudevents.NewNATSMsg(t.Context(), cloudevents.EventsSubject("default", "orders"), ev, true)
	acc := accepted(t, h.request(t, msg))
	evs, err := h.cl.History(t.Context(), acc.Outcomes[0].WorkflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	ws, ok := evs[0].Attributes.(*history.WorkflowStarted)
	if !ok || !strings.Contains(ws.TraceParent, "4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Fatalf("first event %+v", evs[0].Attributes)
	}
}

func TestTriggerValidationAndStore(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	s, err := cloudevents.OpenStore(ctx, env.JetStream(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloudevents.OpenStore(ctx, env.JetStream(), "default"); err != nil {
		t.Fatalf("second open: %v", err)
	}
	for name, tr := range map[string]cloudevents.Trigger{
		"no type":        {Name: "a", WorkflowType: "W"},
		"both types":     {Name: "a", Type: "t", TypePrefix: "t", WorkflowType: "W"},
		"bad name":       {Name: "a.b", Type: "t", WorkflowType: "W"},
		"no workflow":    {Name: "a", Type: "t"},
		"signal no name": {Name: "a", Kind: cloudevents.KindSignal, Type: "t"},
		"bad template":   {Name: "a", Type: "t", WorkflowType: "W", WorkflowID: "{{.id"},
		"bad reuse":      {Name: "a", Type: "t", WorkflowType: "W", ReusePolicy: "sometimes"},
		"bad kind":       {Name: "a", Kind: "stop", Type: "t", WorkflowType: "W"},
	} {
		if err := s.Put(ctx, tr); !errors.Is(err, cloudevents.ErrInvalidTrigger) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := s.Put(ctx, cloudevents.Trigger{Name: "ok", Type: "t", WorkflowType: "W"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].TaskQueue != "default" || list[0].Kind != cloudevents.KindStart {
		t.Fatalf("list %+v %v", list, err)
	}
	if err := s.Delete(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "ok"); !errors.Is(err, cloudevents.ErrTriggerNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
