package cloudevents_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/sdk/client"
)

// rejections subscribes to the rejected subject and returns a function
// that collects the copies received up to (not including) the copy of a
// marker event: the ingress publishes its copies in order on one
// connection, so once the marker's arrives every earlier one has.
func rejections(t *testing.T, h *harness) func(marker string) []*nats.Msg {
	t.Helper()
	nc := h.env.Conn()
	ch := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(cloudevents.RejectedSubject("default"), ch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func(marker string) []*nats.Msg {
		t.Helper()
		var got []*nats.Msg
		timeout := time.After(waitFor)
		for {
			select {
			case m := <-ch:
				if strings.Contains(string(m.Data), `"id":"`+marker+`"`) { // a structured copy
					return got
				}
				got = append(got, m)
			case <-timeout:
				t.Fatalf("no rejected copy of the marker %q; %d copies before it", marker, len(got))
			}
		}
	}
}

// sendMarker posts an event no trigger matches: its rejected copy closes
// what rejections collects.
func sendMarker(t *testing.T, h *harness, id string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+cloudevents.EventsPath, strings.NewReader(`{}`))
	for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": id, "Ce-Source": "urn:marker", "Ce-Type": "com.example.unknown", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	if code, body := h.post(t, req); code != http.StatusBadRequest {
		t.Fatalf("marker: %d %s", code, body)
	}
}

// postProblem posts req and decodes the 400 problem it must get.
func postProblem(t *testing.T, h *harness, req *http.Request) cloudevents.Problem {
	t.Helper()
	code, body := h.post(t, req)
	return problemBody(t, code, body)
}

func problemBody(t *testing.T, code int, body []byte) cloudevents.Problem {
	t.Helper()
	var p cloudevents.Problem
	if code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", code, body)
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Code == "" || p.Detail == "" {
		t.Fatalf("not a problem: %s (%v)", body, err)
	}
	return p
}

// The CloudEvents SDK panicked on a header named "Ce-": the client got a
// closed connection. Headers are now checked before the SDK sees them.
func TestMalformedCloudEventsHeadersAre400(t *testing.T) {
	h := newHarness(t)
	collect := rejections(t, h)
	valid := func() http.Header {
		return http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"hdr-1"}, "Ce-Source": {"urn:web"},
			"Ce-Type": {"com.example.order.created"}, "Content-Type": {"application/json"}}
	}
	cases := []struct {
		name   string
		change func(http.Header)
	}{
		{"empty Ce- header name", func(h http.Header) { h["Ce-"] = []string{"x"} }},
		{"empty Ce- header name and value", func(h http.Header) { h["Ce-"] = []string{""} }},
		{"empty id", func(h http.Header) { h.Set("Ce-Id", "") }},
		{"empty specversion", func(h http.Header) { h.Set("Ce-Specversion", " ") }},
		{"empty extension", func(h http.Header) { h.Set("Ce-Tenant", "") }},
		{"missing source", func(h http.Header) { h.Del("Ce-Source") }},
		{"missing everything", func(h http.Header) {
			for _, k := range []string{"Ce-Specversion", "Ce-Id", "Ce-Source", "Ce-Type"} {
				h.Del(k)
			}
		}},
		{"attribute name not alphanumeric", func(h http.Header) { h.Set("Ce-Tenant-Id", "t") }},
		{"attribute given twice", func(h http.Header) { h.Add("Ce-Type", "com.example.other") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, h.http.URL+cloudevents.EventsPath, strings.NewReader(`{"id":"1"}`))
			req.Header = valid()
			tc.change(req.Header)
			code, body := h.post(t, req) // a closed connection fails here
			if p := problemBody(t, code, body); p.Code != cloudevents.CodeInvalid {
				t.Fatalf("code %q: %s", p.Code, body)
			}
		})
	}
	sendMarker(t, h, "hdr-marker")
	if got := collect("hdr-marker"); len(got) != len(cases) {
		t.Fatalf("%d rejected copies, want one per request (%d)", len(got), len(cases))
	}
}

func batchRequest(t *testing.T, h *harness, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.http.URL+cloudevents.EventsPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", event.ApplicationCloudEventsBatchJSON)
	return req
}

// A batch as large as the size limit allows, of empty objects, once made
// one rejected copy per item (about 18,000 for 1 MiB). It now costs one.
func TestHostileBatchCostsOneRejection(t *testing.T) {
	h := newHarness(t)
	collect := rejections(t, h)
	n := (64<<10 - 2) / 3 // the harness's size limit, in "{}," items
	body := "[" + strings.TrimSuffix(strings.Repeat("{},", n), ",") + "]"
	p := postProblem(t, h, batchRequest(t, h, body))
	if p.Code != cloudevents.CodeBatchTooLarge {
		t.Fatalf("code %q: %s", p.Code, p.Detail)
	}
	sendMarker(t, h, "hostile-marker")
	got := collect("hostile-marker")
	if len(got) != 1 {
		t.Fatalf("%d rejected copies for one hostile batch of %d items, want 1", len(got), n)
	}
	if c := got[0].Header.Get(cloudevents.HeaderRejectCode); c != cloudevents.CodeBatchTooLarge {
		t.Fatalf("rejected copy code %q", c)
	}
}

func TestBatchLimitAndMalformedBatchRejectedWhole(t *testing.T) {
	h := newHarness(t)
	collect := rejections(t, h)
	before, err := h.cl.List(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	event := func(i int) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":"cap-%d","source":"urn:web","type":"com.example.order.created","data":{"id":"%d"}}`, i, i)
	}
	var valid []string
	for i := range cloudevents.DefaultMaxBatchEvents + 1 {
		valid = append(valid, event(i))
	}
	// One event over the limit: nothing processed.
	p := postProblem(t, h, batchRequest(t, h, "["+strings.Join(valid, ",")+"]"))
	if p.Code != cloudevents.CodeBatchTooLarge {
		t.Fatalf("code %q: %s", p.Code, p.Detail)
	}
	// Within the limit, but half the events malformed: one copy, nothing
	// processed, the first bad events named.
	var mixed []string
	for i := range 40 {
		if i%2 == 1 {
			mixed = append(mixed, fmt.Sprintf(`{"specversion":"1.0","id":"bad-%d"}`, i))
			continue
		}
		mixed = append(mixed, event(1000+i))
	}
	p = postProblem(t, h, batchRequest(t, h, "["+strings.Join(mixed, ",")+"]"))
	if p.Code != cloudevents.CodeInvalid || len(p.Events) == 0 || len(p.Events) > 10 || p.Events[0].Index != 1 {
		t.Fatalf("answer %+v", p)
	}
	// Not an array.
	p = postProblem(t, h, batchRequest(t, h, `{"specversion":"1.0"}`))
	if p.Code != cloudevents.CodeInvalid {
		t.Fatalf("code %q", p.Code)
	}
	sendMarker(t, h, "cap-marker")
	if got := collect("cap-marker"); len(got) != 3 {
		t.Fatalf("%d rejected copies for 3 rejected batches, want 3", len(got))
	}
	after, err := h.cl.List(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d runs before, %d after: a rejected batch was processed", len(before), len(after))
	}
	// Exactly the limit is accepted.
	code, body := h.post(t, batchRequest(t, h, "["+strings.Join(valid[:cloudevents.DefaultMaxBatchEvents], ",")+"]"))
	if code != http.StatusAccepted {
		t.Fatalf("a batch at the limit: %d %s", code, body)
	}
}

func TestInvalidIngressOptionsFail(t *testing.T) {
	h := newHarness(t)
	for name, opt := range map[string]cloudevents.IngressOption{
		"batch of 0":                   cloudevents.WithMaxBatchEvents(0),
		"no pending messages":          cloudevents.WithPendingLimits(0, 1<<20),
		"negative pending bytes":       cloudevents.WithPendingLimits(10, -1),
		"pending below one event size": cloudevents.WithPendingLimits(10, 1<<10),
	} {
		_, err := cloudevents.NewIngress(t.Context(), h.env.Conn(), h.cl, opt)
		if !errors.Is(err, cloudevents.ErrInvalidOption) {
			t.Errorf("%s: err = %v, want ErrInvalidOption", name, err)
		}
	}
}

// TestRejectedCopyKeepsDataThatIsNotJSON: a binary-mode event a trigger
// matches, whose data is not JSON and has no content type, is rejected as
// bad data, and its rejected copy still carries the event: its attributes
// and its data as sent.
func TestRejectedCopyKeepsDataThatIsNotJSON(t *testing.T) {
	h := newHarness(t)
	collect := rejections(t, h)
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+cloudevents.EventsPath, strings.NewReader("A"))
	for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "not-json-1", "Ce-Source": "urn:shop", "Ce-Type": "com.example.order.created"} {
		req.Header.Set(k, v)
	}
	if p := postProblem(t, h, req); p.Code != cloudevents.CodeBadData {
		t.Fatalf("problem %+v, want %s", p, cloudevents.CodeBadData)
	}
	sendMarker(t, h, "marker-not-json")
	got := collect("marker-not-json")
	if len(got) != 1 {
		t.Fatalf("%d rejected copies, want 1", len(got))
	}
	m := got[0]
	if string(m.Data) != "A" || m.Header.Get("ce-id") != "not-json-1" || m.Header.Get(cloudevents.HeaderRejectCode) != cloudevents.CodeBadData {
		t.Fatalf("rejected copy: headers %v, body %q; want the event's id and data", m.Header, m.Data)
	}
}
