package cloudevents_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/testenv"
)

// Fuzz targets of the CloudEvents ingress: events arrive from anyone who
// may publish to cairn.<ns>.events.> or reach the HTTP endpoint, and
// triggers from the triggers bucket. .ci/fuzz runs every target.

// fuzzEvents are realistic events: a start with JSON data and tracing, a
// signal with a subject, one without data.
func fuzzEvents() []*event.Event {
	a := newEvent("evt-1", "urn:shop", "com.example.order.created", Order{ID: "o-1", Cents: 1299})
	a.SetSubject("order/o-1")
	a.SetTime(time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC))
	a.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	a.SetDataSchema("https://example.com/order.json")
	b := newEvent("evt-2", "urn:desk", "com.example.decision", "approve")
	b.SetSubject("approval-7")
	c := newEvent("evt-3", "/a/b", "com.example.order.keyed.x", nil)
	c.SetExtension("orderid", "42")
	return []*event.Event{a, b, c}
}

// sameEvent reports whether two events have the same attributes,
// extensions and data. JSON data is compared as a JSON value: the
// structured mode embeds it in the event's JSON, which does not keep its
// spacing or escapes.
func sameEvent(a, b *event.Event) bool {
	if a.Context.String() != b.Context.String() {
		return false
	}
	if bytes.Equal(a.Data(), b.Data()) {
		return true
	}
	var va, vb any
	return json.Unmarshal(a.Data(), &va) == nil && json.Unmarshal(b.Data(), &vb) == nil && reflect.DeepEqual(va, vb)
}

// FuzzEventFromNATS checks that EventFromNATS either rejects a message or
// returns a valid event that NewNATSMsg encodes into a message that decodes
// to the same event: always in binary mode, and in structured mode whenever
// the event has a JSON form (data that is not JSON under an implied JSON
// content type has none; the SDK refuses to marshal it).
func FuzzEventFromNATS(f *testing.F) {
	ctx := context.Background()
	for _, ev := range fuzzEvents() {
		for _, binary := range []bool{true, false} {
			m, err := cloudevents.NewNATSMsg(ctx, "cairn.default.events.x", ev, binary)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(testutil.NATSWireHeader(m.Header), m.Data)
		}
	}
	f.Add([]byte("NATS/1.0\r\nCE-SPECVERSION: 1.0\r\nce-id: 1\r\nce-source: s\r\nce-type: t\r\nce-time: soon\r\n\r\n"), []byte("x"))
	f.Add([]byte("NATS/1.0\r\nce-specversion: 0.3\r\nce-id: 1\r\nce-source: s\r\nce-type: t\r\n\r\n"), []byte(nil))

	f.Fuzz(func(t *testing.T, hdr, data []byte) {
		h, err := nats.DecodeHeadersMsg(hdr)
		if err != nil {
			return
		}
		ev, err := cloudevents.EventFromNATS(ctx, &nats.Msg{Subject: "cairn.default.events.x", Header: h, Data: data})
		if err != nil {
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("EventFromNATS returned an invalid event: %v", err)
		}
		_, jsonErr := json.Marshal(ev)
		for _, binary := range []bool{true, false} {
			m, err := cloudevents.NewNATSMsg(ctx, "cairn.default.events.x", ev, binary)
			if err != nil {
				if !binary && jsonErr != nil {
					continue
				}
				t.Fatalf("NewNATSMsg(binary=%v) of a decoded event: %v\n%s", binary, err, ev)
			}
			back, err := cloudevents.EventFromNATS(ctx, m)
			if err != nil {
				t.Fatalf("EventFromNATS of the re-encoded event (binary=%v): %v\n%s\n%v %q", binary, err, ev, m.Header, m.Data)
			}
			if !sameEvent(back, ev) {
				t.Fatalf("re-encoded event (binary=%v) differs:\n got  %s\n want %s", binary, back, ev)
			}
		}
	})
}

// FuzzDecodeTrigger checks that a stored trigger either fails to decode
// with ErrInvalidTrigger or is a valid trigger whose JSON decodes to
// itself.
func FuzzDecodeTrigger(f *testing.F) {
	for _, tr := range []cloudevents.Trigger{
		{Name: "orders", Type: "com.example.order.created", WorkflowType: "Echo"},
		{Name: "orders-by-id", TypePrefix: "com.example.order.keyed.", WorkflowType: "Echo", WorkflowID: "order-{{.data.id}}",
			InputField: "order", ReusePolicy: cloudevents.ReuseFailedOnly, TaskQueue: "q"},
		{Name: "decisions", Kind: cloudevents.KindSignal, Type: "com.example.decision", SignalName: "decision", Source: "urn:desk"},
	} {
		b, err := json.Marshal(tr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"name":"x","type":"t","workflowType":"W","workflowId":"{{"}`))
	f.Add([]byte(`{"name":"x","type":"t","workflowType":"W","inputField":"a..b"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := cloudevents.DecodeTrigger(data)
		if err != nil {
			if !errors.Is(err, cloudevents.ErrInvalidTrigger) {
				t.Fatalf("DecodeTrigger: error %v does not wrap ErrInvalidTrigger", err)
			}
			return
		}
		b, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		back, err := cloudevents.DecodeTrigger(b)
		if err != nil {
			t.Fatalf("the JSON %s of an accepted trigger does not decode: %v", b, err)
		}
		if b2, _ := json.Marshal(back); !bytes.Equal(b, b2) {
			t.Fatalf("trigger round trip differs:\n%s\n%s", b, b2)
		}
	})
}

// httpRequest parses a POST to the events endpoint with the fuzzed header
// lines and body, as the HTTP server would; ok is false for what the
// server would refuse before the handler.
func httpRequest(hdr, body []byte) (*http.Request, bool) {
	var b bytes.Buffer
	b.WriteString("POST " + cloudevents.EventsPath + " HTTP/1.1\r\nHost: cairn\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.Write(hdr)
	b.WriteString("\r\n")
	b.Write(body)
	r, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return nil, false
	}
	return r, true
}

// httpSeed is the header lines and body of ev sent in a content mode.
func httpSeed(f *testing.F, ev *event.Event, structured bool) ([]byte, []byte) {
	var hdr bytes.Buffer
	if structured {
		body, err := json.Marshal(ev)
		if err != nil {
			f.Fatal(err)
		}
		hdr.WriteString("Content-Type: " + event.ApplicationCloudEventsJSON + "\r\n")
		return hdr.Bytes(), body
	}
	m, err := cloudevents.NewNATSMsg(context.Background(), "s", ev, true)
	if err != nil {
		f.Fatal(err)
	}
	keys := make([]string, 0, len(m.Header))
	for k := range m.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		hdr.WriteString(k + ": " + m.Header.Get(k) + "\r\n")
	}
	return hdr.Bytes(), m.Data
}

// FuzzHTTPHandler drives the HTTP handler with arbitrary headers and
// bodies, against an embedded server whose triggers match the seeds but
// whose workflows nobody serves (so no run starts). The handler must answer
// 202 with JSON, or 400 or 503 with a problem+json body whose code is the
// Cairn-Reject-Code header; it must never panic.
func FuzzHTTPHandler(f *testing.F) {
	var batch [][]byte
	for _, ev := range fuzzEvents() {
		for _, structured := range []bool{true, false} {
			hdr, body := httpSeed(f, ev, structured)
			f.Add(hdr, body)
		}
		b, _ := json.Marshal(ev)
		batch = append(batch, b)
	}
	f.Add([]byte("Content-Type: application/cloudevents-batch+json\r\n"), append(append([]byte("["), bytes.Join(batch, []byte(","))...), ']'))
	f.Add([]byte("Content-Type: application/cloudevents-batch+json\r\n"), []byte(`[{}, 1, null]`))
	f.Add([]byte("ce-specversion: 1.0\r\nce-id: 1\r\nce-source: s\r\nce-type: com.example.order.created\r\nContent-Type: text/plain\r\n"), []byte("hi"))
	f.Add([]byte("ce-specversion: 1.0\r\nce-time: yesterday\r\n"), []byte(nil))

	env := testenv.New(f)
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	store, err := cloudevents.OpenStore(ctx, env.JetStream(), env.Namespace())
	if err != nil {
		f.Fatal(err)
	}
	for _, tr := range []cloudevents.Trigger{
		{Name: "orders", Type: "com.example.order.created", WorkflowType: "Unserved"},
		{Name: "orders-by-id", TypePrefix: "com.example.order.keyed.", WorkflowType: "Unserved", WorkflowID: "order-{{.extensions.orderid}}", InputField: "order"},
		{Name: "decisions", Kind: cloudevents.KindSignal, Type: "com.example.decision", SignalName: "decision"},
	} {
		if err := store.Put(ctx, tr); err != nil {
			f.Fatal(err)
		}
	}
	cl, err := client.New(ctx, env.Conn())
	if err != nil {
		f.Fatal(err)
	}
	in, err := cloudevents.NewIngress(ctx, env.NewConn(f), cl, cloudevents.WithMaxEventSize(64<<10))
	if err != nil {
		f.Fatal(err)
	}
	handler := in.Handler()

	f.Fuzz(func(t *testing.T, hdr, body []byte) {
		r, ok := httpRequest(hdr, body)
		if !ok {
			return
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		res := w.Result()
		ct := res.Header.Get("Content-Type")
		switch res.StatusCode {
		case http.StatusAccepted:
			if ct != "application/json" || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("202 with %s %q", ct, w.Body.Bytes())
			}
		case http.StatusBadRequest, http.StatusServiceUnavailable:
			var p cloudevents.Problem
			if ct != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil {
				t.Fatalf("%d with %s %q", res.StatusCode, ct, w.Body.Bytes())
			}
			if p.Code == "" || p.Code != res.Header.Get(cloudevents.HeaderRejectCode) {
				t.Fatalf("%d: problem code %q, header %q", res.StatusCode, p.Code, res.Header.Get(cloudevents.HeaderRejectCode))
			}
		default:
			t.Fatalf("status %d: %s", res.StatusCode, w.Body.Bytes())
		}
	})
}
