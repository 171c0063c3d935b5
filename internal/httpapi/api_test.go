package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/httpapi"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Greeter answers the query "name" and returns the greeting it is sent.
func Greeter(ctx workflow.Context, name string) (string, error) {
	workflow.SetQueryHandler(ctx, "name", func(struct{}) (string, error) { return name, nil })
	greeting, err := workflow.ReceiveSignal[string](ctx, "greeting")
	if err != nil {
		return "", err
	}
	return greeting + ", " + name, nil
}

type apiHarness struct {
	t   *testing.T
	srv *httptest.Server
}

func newAPI(t *testing.T) *apiHarness {
	t.Helper()
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Greeter) })
	srv := httptest.NewServer(httpapi.New(env.Client(t), nil).Handler())
	t.Cleanup(srv.Close)
	return &apiHarness{t: t, srv: srv}
}

// do sends a request and returns the status and body; body is JSON-encoded
// unless it is a string (sent as it is).
func (h *apiHarness) do(method, path string, body any) (int, []byte, http.Header) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(h.t.Context(), method, h.srv.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, data, resp.Header
}

// ok sends a request that must answer want, and decodes its body into v.
func (h *apiHarness) ok(method, path string, body any, want int, v any) {
	h.t.Helper()
	status, data, _ := h.do(method, path, body)
	if status != want {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, status, data, want)
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// problem sends a request that must fail with status and code.
func (h *apiHarness) problem(method, path string, body any, status int, code string) {
	h.t.Helper()
	got, data, hdr := h.do(method, path, body)
	var p struct {
		Type, Title, Detail, Code string
		Status                    int
	}
	if err := json.Unmarshal(data, &p); err != nil || got != status || p.Status != status || p.Code != code ||
		hdr.Get("Content-Type") != "application/problem+json" || p.Title == "" || p.Type == "" {
		h.t.Fatalf("%s %s: %d %s (%s); want %d problem %q", method, path, got, data, hdr.Get("Content-Type"), status, code)
	}
}

// TestWorkflowLifecycleOverHTTP: start, list, describe, history (paged),
// query, signal and the long-polled result of a run, all over the API,
// against the real engine.
func TestWorkflowLifecycleOverHTTP(t *testing.T) {
	h := newAPI(t)
	var started struct {
		WorkflowID, Run string
		Created         bool
	}
	h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "workflowId": "greet/1", "input": "ada"},
		http.StatusCreated, &started)
	if started.WorkflowID != "greet/1" || started.Run == "" || !started.Created {
		t.Fatalf("start: %+v", started)
	}
	var again struct {
		Run     string
		Created bool
	}
	h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "workflowId": "greet/1", "input": "bob"}, http.StatusOK, &again)
	if again.Created || again.Run != started.Run {
		t.Fatalf("second start of a running id: %+v", again)
	}
	path := "/v1/workflows/" + url.PathEscape("greet/1")

	var page struct {
		Summaries []history.Summary
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		h.ok("GET", "/v1/workflows?status=running&workflowType=Greeter", nil, http.StatusOK, &page)
		if len(page.Summaries) != 1 || page.Summaries[0].WorkflowID != "greet/1" {
			return fmt.Errorf("list: %+v", page.Summaries)
		}
		return nil
	})
	h.ok("GET", "/v1/workflows?status=completed", nil, http.StatusOK, &page)
	if len(page.Summaries) != 0 {
		t.Fatalf("completed: %+v", page.Summaries)
	}
	var count struct{ Count int }
	h.ok("GET", "/v1/count/workflows?workflowType=Greeter", nil, http.StatusOK, &count)
	if count.Count != 1 {
		t.Fatalf("count: %+v", count)
	}
	h.ok("GET", "/v1/count/workflows?status=completed", nil, http.StatusOK, &count)
	if count.Count != 0 {
		t.Fatalf("count of completed: %+v", count)
	}

	var d struct {
		WorkflowID    string
		Status        history.Status
		HistoryLength int64
	}
	h.ok("GET", path, nil, http.StatusOK, &d)
	if d.WorkflowID != "greet/1" || d.Status != history.StatusRunning || d.HistoryLength < 1 {
		t.Fatalf("describe: %+v", d)
	}

	var q struct{ Result string }
	testutil.Eventually(t, 30*time.Second, func() error {
		status, data, _ := h.do("POST", path+"/query", map[string]any{"name": "name"})
		if status != http.StatusOK {
			return fmt.Errorf("query: %d %s", status, data)
		}
		return json.Unmarshal(data, &q)
	})
	if q.Result != "ada" {
		t.Fatalf("query: %+v", q)
	}

	var res struct {
		Status history.Status
		Result json.RawMessage
	}
	h.ok("GET", path+"/result?wait=100ms", nil, http.StatusOK, &res)
	if res.Status != history.StatusRunning || res.Result != nil {
		t.Fatalf("result before the signal: %+v", res)
	}
	h.ok("POST", path+"/signal", map[string]any{"name": "greeting", "payload": "hello"}, http.StatusNoContent, nil)
	h.ok("GET", path+"/result?wait=30s", nil, http.StatusOK, &res)
	if res.Status != history.StatusCompleted || string(res.Result) != `"hello, ada"` {
		t.Fatalf("result: %+v %s", res, res.Result)
	}

	var hp struct {
		Events []history.ExportedEvent
		Next   int64
	}
	h.ok("GET", path+"/history", nil, http.StatusOK, &hp)
	if len(hp.Events) < 3 || hp.Events[0].Type != history.TypeWorkflowStarted || hp.Next != 0 ||
		hp.Events[len(hp.Events)-1].Type != history.TypeWorkflowCompleted {
		t.Fatalf("history: %+v", hp)
	}
	all := hp.Events
	var paged []history.ExportedEvent
	for after := int64(0); ; {
		hp.Events, hp.Next = nil, 0
		h.ok("GET", path+"/history?limit=2&after="+strconv.FormatInt(after, 10), nil, http.StatusOK, &hp)
		paged = append(paged, hp.Events...)
		if hp.Next == 0 {
			break
		}
		after = hp.Next
	}
	if len(paged) != len(all) || paged[len(paged)-1].Seq != all[len(all)-1].Seq {
		t.Fatalf("paged history: %d events, want %d", len(paged), len(all))
	}

	// Closed: controls answer 409, a typed problem.
	h.problem("POST", path+"/cancel", nil, http.StatusConflict, "not-running")
	h.problem("POST", path+"/signal", map[string]any{"name": "greeting"}, http.StatusConflict, "not-running")
}

// TestControlsOverHTTP: terminate, pause and resume act on the run and
// show in its description.
func TestControlsOverHTTP(t *testing.T) {
	h := newAPI(t)
	h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "workflowId": "c1", "input": "x"}, http.StatusCreated, nil)
	h.ok("POST", "/v1/workflows/c1/pause", map[string]any{"reason": "look"}, http.StatusNoContent, nil)
	var d struct {
		Status history.Status
		Paused json.RawMessage
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		h.ok("GET", "/v1/workflows/c1", nil, http.StatusOK, &d)
		if d.Paused == nil {
			return fmt.Errorf("not paused yet")
		}
		return nil
	})
	h.ok("POST", "/v1/workflows/c1/resume", nil, http.StatusNoContent, nil)
	h.ok("POST", "/v1/workflows/c1/terminate", map[string]any{"reason": "enough"}, http.StatusNoContent, nil)
	h.ok("GET", "/v1/workflows/c1", nil, http.StatusOK, &d)
	if d.Status != history.StatusTerminated {
		t.Fatalf("after terminate: %+v", d)
	}
	var res struct {
		Status  history.Status
		Failure *history.Failure
	}
	h.ok("GET", "/v1/workflows/c1/result", nil, http.StatusOK, &res)
	if res.Status != history.StatusTerminated || res.Failure == nil {
		t.Fatalf("result of a terminated run: %+v", res)
	}
}

// TestErrorsOverHTTP: every error is a problem document with its typed
// code.
func TestErrorsOverHTTP(t *testing.T) {
	h := newAPI(t)
	h.problem("GET", "/v1/workflows/nope", nil, http.StatusNotFound, "not-found")
	h.problem("GET", "/v1/workflows/nope/history", nil, http.StatusNotFound, "not-found")
	h.problem("GET", "/v1/workflows/nope/result?wait=0s", nil, http.StatusNotFound, "not-found")
	h.problem("POST", "/v1/workflows/nope/cancel", nil, http.StatusNotFound, "not-found")
	h.problem("POST", "/v1/workflows", map[string]any{"workflowId": "x"}, http.StatusBadRequest, "invalid-argument")
	h.problem("POST", "/v1/workflows", map[string]any{"workflowType": "Nope"}, http.StatusBadRequest, "unknown-workflow-type")
	h.problem("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "surprise": 1}, http.StatusBadRequest, "invalid-argument")
	h.problem("POST", "/v1/workflows", `{"workflowType":`, http.StatusBadRequest, "invalid-argument")
	h.problem("POST", "/v1/workflows", `{"workflowType":"Greeter"} {}`, http.StatusBadRequest, "invalid-argument")
	h.problem("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "idReusePolicy": "sometimes"}, http.StatusBadRequest, "invalid-argument")
	h.problem("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "taskQueue": "bad queue"}, http.StatusBadRequest, "invalid-argument")
	h.problem("POST", "/v1/workflows", `{"workflowType":"Greeter","input":"`+strings.Repeat("x", 3<<20)+`"}`, http.StatusRequestEntityTooLarge, "payload-too-large")
	h.problem("GET", "/v1/workflows?pageSize=0", nil, http.StatusBadRequest, "invalid-argument")
	h.problem("GET", "/v1/workflows?startedAfter=yesterday", nil, http.StatusBadRequest, "invalid-argument")
	h.problem("GET", "/v1/workflows?attr=%3D%3D", nil, http.StatusBadRequest, "invalid-argument")
	h.problem("GET", "/v1/workflows/x/result?wait=2h", nil, http.StatusBadRequest, "invalid-argument")
	h.problem("GET", "/v1/workflows/x/history?limit=0", nil, http.StatusBadRequest, "invalid-argument")
	h.problem("POST", "/v1/workflows/x/signal", map[string]any{}, http.StatusBadRequest, "invalid-argument")
	h.problem("DELETE", "/v1/workflows", nil, http.StatusMethodNotAllowed, "method-not-allowed")
	h.problem("GET", "/v1/nothing", nil, http.StatusNotFound, "no-such-route")
}

// TestOpenAPIDescribesEveryRoute: the OpenAPI document served at
// /v1/openapi.json lists exactly the routes the API serves, each with its
// path parameters, and every route answers something other than "no such
// route".
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	h := newAPI(t)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name, In string
				Required bool
			} `json:"parameters"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	h.ok("GET", httpapi.OpenAPIPath, nil, http.StatusOK, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if op.OperationID == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no operationId or responses", method, path)
			}
			for _, seg := range strings.Split(path, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok {
					name = strings.TrimSuffix(name, "}")
					if !slices.ContainsFunc(op.Parameters, func(p struct {
						Name, In string
						Required bool
					}) bool {
						return p.Name == name && p.In == "path" && p.Required
					}) {
						t.Errorf("%s %s: path parameter %s not declared", method, path, name)
					}
				}
			}
		}
	}
	served := httpapi.Routes()
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("documented %v\nserved     %v", documented, served)
	}
	for _, rt := range served {
		method, path, _ := strings.Cut(rt, " ")
		path = strings.ReplaceAll(strings.ReplaceAll(path, "{id}", "no-such-id"), "{name}", "no-such-name")
		// Streams answer with their headers at once; only those are read.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, method, h.srv.URL+path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", rt, err)
		}
		var data []byte
		if resp.Header.Get("Content-Type") != "text/event-stream" {
			data, _ = io.ReadAll(resp.Body)
		}
		resp.Body.Close()
		cancel()
		if resp.StatusCode == http.StatusNotFound && strings.Contains(string(data), "no-such-route") {
			t.Errorf("%s is documented but not served", rt)
		}
	}
}

// TestTaskQueuesOverHTTP: the live workers, and each task queue's types,
// workers and backlog: starts of a queue whose worker stopped wait in its
// backlog.
func TestTaskQueuesOverHTTP(t *testing.T) {
	env := testenv.New(t)
	w := env.StartWorker(t, "orders", func(w *worker.Worker) {
		w.RegisterWorkflow(Greeter)
		w.RegisterActivity(func(context.Context, string) (string, error) { return "", nil }, worker.WithName("Ship"))
	})
	srv := httptest.NewServer(httpapi.New(env.Client(t), nil).Handler())
	t.Cleanup(srv.Close)
	h := &apiHarness{t: t, srv: srv}

	var ws struct{ Workers []client.WorkerInfo }
	h.ok("GET", "/v1/workers", nil, http.StatusOK, &ws)
	if len(ws.Workers) != 1 || ws.Workers[0].TaskQueue != "orders" || !slices.Equal(ws.Workers[0].Workflows, []string{"Greeter"}) {
		t.Fatalf("workers: %+v", ws.Workers)
	}
	w.Stop()
	for i := range 3 {
		h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "workflowId": "wait-" + strconv.Itoa(i),
			"taskQueue": "orders", "input": "x"}, http.StatusCreated, nil)
	}
	var qs struct{ TaskQueues []client.TaskQueue }
	testutil.Eventually(t, 30*time.Second, func() error {
		h.ok("GET", "/v1/task-queues", nil, http.StatusOK, &qs)
		if len(qs.TaskQueues) != 1 {
			return fmt.Errorf("task queues: %+v", qs.TaskQueues)
		}
		q := qs.TaskQueues[0]
		if q.Name != "orders" || !slices.Equal(q.WorkflowTypes, []string{"Greeter"}) || !slices.Equal(q.ActivityTypes, []string{"Ship"}) ||
			len(q.Workers) != 0 || q.WorkflowBacklog != 3 {
			return fmt.Errorf("queue: %+v", q)
		}
		if _, ok := q.ActivityBacklog["Ship"]; !ok {
			return fmt.Errorf("no backlog of Ship: %+v", q.ActivityBacklog)
		}
		return nil
	})
}

// approvals waits for a callback and returns its result; the token goes
// to tokens.
type approvals struct{ tokens chan string }

func (a *approvals) approval(ctx workflow.Context, _ string) (string, error) {
	return workflow.WaitForCallback[string](ctx, "approval", func(token string) error {
		select {
		case a.tokens <- token:
		default:
		}
		return nil
	}, workflow.CallbackOptions{Timeout: time.Hour})
}

// TestOperationsOverHTTP: callbacks complete and fail over the API (a
// repeat of another decision is a conflict), a closed run is reset to an
// earlier event, and purged.
func TestOperationsOverHTTP(t *testing.T) {
	env := testenv.New(t)
	ap := &approvals{tokens: make(chan string, 4)}
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(ap.approval, worker.WithName("Approval"))
		w.RegisterWorkflow(Greeter)
	})
	srv := httptest.NewServer(httpapi.New(env.Client(t), nil).Handler())
	t.Cleanup(srv.Close)
	h := &apiHarness{t: t, srv: srv}
	token := func() string {
		select {
		case tok := <-ap.tokens:
			return tok
		case <-time.After(30 * time.Second):
			t.Fatal("no callback token")
			return ""
		}
	}

	h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Approval", "workflowId": "ap-1"}, http.StatusCreated, nil)
	tok := token()
	h.ok("POST", "/v1/callbacks/heartbeat", map[string]any{"token": tok}, http.StatusNoContent, nil)
	h.ok("POST", "/v1/callbacks/complete", map[string]any{"token": tok, "result": "approved"}, http.StatusNoContent, nil)
	h.problem("POST", "/v1/callbacks/fail", map[string]any{"token": tok, "errorType": "No", "message": "changed my mind"},
		http.StatusConflict, "callback-not-pending")
	h.problem("POST", "/v1/callbacks/complete", map[string]any{"token": "not-a-token"}, http.StatusBadRequest, "invalid-token")
	h.problem("POST", "/v1/callbacks/complete", map[string]any{}, http.StatusBadRequest, "invalid-argument")
	var res struct {
		Status history.Status
		Result json.RawMessage
	}
	h.ok("GET", "/v1/workflows/ap-1/result?wait=30s", nil, http.StatusOK, &res)
	if res.Status != history.StatusCompleted || string(res.Result) != `"approved"` {
		t.Fatalf("result: %+v %s", res, res.Result)
	}

	h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Approval", "workflowId": "ap-2"}, http.StatusCreated, nil)
	tok = token()
	h.ok("POST", "/v1/callbacks/fail", map[string]any{"token": tok, "errorType": "Rejected", "message": "no"}, http.StatusNoContent, nil)
	h.ok("GET", "/v1/workflows/ap-2/result?wait=30s", nil, http.StatusOK, &res)
	if res.Status != history.StatusFailed {
		t.Fatalf("failed callback: %+v", res)
	}
	// A redrive would keep the callback that failed open with the old
	// run's token: refused. A reset to the start waits again, with a new
	// token.
	h.problem("POST", "/v1/workflows/ap-2/redrive", map[string]any{"reason": "retry"}, http.StatusBadRequest, "invalid-reset")
	var rr struct {
		Run        string
		EventSeq   int64
		Terminated string
	}
	h.ok("POST", "/v1/workflows/ap-2/reset", map[string]any{"eventSeq": 1, "reason": "retry"}, http.StatusOK, &rr)
	if rr.Run == "" || rr.EventSeq < 1 || rr.Terminated != "" {
		t.Fatalf("reset: %+v", rr)
	}
	h.ok("POST", "/v1/callbacks/complete", map[string]any{"token": token(), "result": "second time"}, http.StatusNoContent, nil)
	h.ok("GET", "/v1/workflows/ap-2/result?wait=30s", nil, http.StatusOK, &res)
	if res.Status != history.StatusCompleted || string(res.Result) != `"second time"` {
		t.Fatalf("after the reset: %+v %s", res, res.Result)
	}

	// Reset the completed ap-1 to its start: it waits again.
	h.ok("POST", "/v1/workflows/ap-1/reset", map[string]any{"eventSeq": 1, "reason": "again", "requestId": "r-1"}, http.StatusOK, &rr)
	first := rr.Run
	h.ok("POST", "/v1/workflows/ap-1/reset", map[string]any{"eventSeq": 1, "reason": "again", "requestId": "r-1"}, http.StatusOK, &rr)
	if rr.Run != first {
		t.Fatalf("a repeated reset made run %s, then %s", first, rr.Run)
	}
	h.problem("POST", "/v1/workflows/ap-1/reset", map[string]any{"eventSeq": 999}, http.StatusBadRequest, "invalid-reset")
	h.problem("DELETE", "/v1/workflows/ap-1", nil, http.StatusConflict, "still-running")
	h.ok("POST", "/v1/workflows/ap-1/terminate", nil, http.StatusNoContent, nil)
	h.ok("DELETE", "/v1/workflows/ap-1", nil, http.StatusNoContent, nil)
	h.problem("GET", "/v1/workflows/ap-1", nil, http.StatusNotFound, "not-found")
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ id, event, data string }

// readSSE reads events from a stream until it ends.
func readSSE(t *testing.T, body io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.event != "" {
				out <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// TestEventStreamOverHTTP: GET .../events streams a run's events as they
// are recorded, live, and ends with the run; a reconnect with
// Last-Event-ID gets only what follows; an unknown id is a 404 problem.
func TestEventStreamOverHTTP(t *testing.T) {
	h := newAPI(t)
	h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "workflowId": "live", "input": "eve"}, http.StatusCreated, nil)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", h.srv.URL+"/v1/workflows/live/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan sseEvent, 64)
	go readSSE(t, resp.Body, events)
	next := func() sseEvent {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended early")
			}
			return ev
		case <-time.After(30 * time.Second):
			t.Fatal("no event")
			return sseEvent{}
		}
	}
	first := next()
	if first.event != string(history.TypeWorkflowStarted) || first.id != "1" {
		t.Fatalf("first event: %+v", first)
	}
	// The run waits for its signal: what comes next is recorded live.
	h.ok("POST", "/v1/workflows/live/signal", map[string]any{"name": "greeting", "payload": "hi"}, http.StatusNoContent, nil)
	var seen []string
	last := first
	for {
		ev := next()
		if ev.event == "end" {
			if !strings.Contains(ev.data, `"status":"completed"`) {
				t.Fatalf("end: %+v", ev)
			}
			break
		}
		seen = append(seen, ev.event)
		last = ev
	}
	if !slices.Contains(seen, string(history.TypeSignalReceived)) || seen[len(seen)-1] != string(history.TypeWorkflowCompleted) {
		t.Fatalf("streamed %v", seen)
	}

	// Resume after the signal: only the rest.
	req, _ = http.NewRequestWithContext(t.Context(), "GET", h.srv.URL+"/v1/workflows/live/events", nil)
	lastID, _ := strconv.ParseInt(last.id, 10, 64)
	req.Header.Set("Last-Event-ID", strconv.FormatInt(lastID-1, 10))
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	events = make(chan sseEvent, 64)
	go readSSE(t, resp2.Body, events)
	if ev := next(); ev.id != last.id || ev.event != string(history.TypeWorkflowCompleted) {
		t.Fatalf("resumed with %+v, want event %s", ev, last.id)
	}
	if ev := next(); ev.event != "end" {
		t.Fatalf("after the close: %+v", ev)
	}
	h.problem("GET", "/v1/workflows/nobody/events", nil, http.StatusNotFound, "not-found")
}

// TestSchedulesOverHTTP: a schedule created, listed, described, paused,
// unpaused, triggered (its run starts) and deleted over the API, with
// typed problems for what the client refuses.
func TestSchedulesOverHTTP(t *testing.T) {
	h := newAPI(t)
	var s struct {
		ID     string
		Spec   string
		Paused bool
	}
	h.ok("POST", "/v1/schedules", map[string]any{"id": "hourly", "spec": "@every 1h", "workflowType": "Greeter",
		"input": "sched", "overlap": "allow-all", "executionTimeout": "1h"}, http.StatusCreated, &s)
	if s.ID != "hourly" || s.Spec != "@every 1h" {
		t.Fatalf("created: %+v", s)
	}
	h.problem("POST", "/v1/schedules", map[string]any{"id": "hourly", "spec": "@every 1h", "workflowType": "Greeter"},
		http.StatusConflict, "schedule-exists")
	h.problem("POST", "/v1/schedules", map[string]any{"id": "bad", "spec": "sometimes", "workflowType": "Greeter"},
		http.StatusBadRequest, "invalid-schedule")
	h.problem("POST", "/v1/schedules", map[string]any{"id": "x", "spec": "@every 1h", "workflowType": "Nope"},
		http.StatusBadRequest, "unknown-workflow-type")
	h.problem("POST", "/v1/schedules", map[string]any{"id": "x", "spec": "@every 1h", "workflowType": "Greeter", "catchUpWindow": "soon"},
		http.StatusBadRequest, "invalid-argument")

	var list struct{ Schedules []struct{ ID string } }
	h.ok("GET", "/v1/schedules", nil, http.StatusOK, &list)
	if len(list.Schedules) != 1 || list.Schedules[0].ID != "hourly" {
		t.Fatalf("list: %+v", list)
	}
	h.ok("POST", "/v1/schedules/hourly/pause", map[string]any{"note": "maintenance"}, http.StatusNoContent, nil)
	h.ok("GET", "/v1/schedules/hourly", nil, http.StatusOK, &s)
	if !s.Paused {
		t.Fatalf("after pause: %+v", s)
	}
	h.ok("POST", "/v1/schedules/hourly/unpause", nil, http.StatusNoContent, nil)
	var fired struct{ WorkflowID string }
	h.ok("POST", "/v1/schedules/hourly/trigger", nil, http.StatusAccepted, &fired)
	if fired.WorkflowID == "" {
		t.Fatal("trigger named no workflow")
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		status, data, _ := h.do("GET", "/v1/workflows/"+url.PathEscape(fired.WorkflowID), nil)
		if status != http.StatusOK {
			return fmt.Errorf("the triggered run: %d %s", status, data)
		}
		return nil
	})
	h.ok("DELETE", "/v1/schedules/hourly", nil, http.StatusNoContent, nil)
	h.problem("GET", "/v1/schedules/hourly", nil, http.StatusNotFound, "schedule-not-found")
	h.problem("DELETE", "/v1/schedules/hourly", nil, http.StatusNotFound, "schedule-not-found")
}

// TestTriggersOverHTTP: CloudEvents triggers put, listed, read and
// deleted over the API; an invalid one is refused; a server without
// triggers says so.
func TestTriggersOverHTTP(t *testing.T) {
	env := testenv.New(t)
	store, err := cloudevents.OpenStore(t.Context(), env.JetStream(), env.Namespace())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(env.Client(t), nil, httpapi.WithTriggers(store)).Handler())
	t.Cleanup(srv.Close)
	h := &apiHarness{t: t, srv: srv}
	var tr cloudevents.Trigger
	h.ok("PUT", "/v1/triggers/orders", map[string]any{"type": "com.example.order", "workflowType": "Greeter"}, http.StatusOK, &tr)
	if tr.Name != "orders" || tr.WorkflowType != "Greeter" || tr.Kind != cloudevents.KindStart {
		t.Fatalf("put: %+v", tr)
	}
	var list struct{ Triggers []cloudevents.Trigger }
	h.ok("GET", "/v1/triggers", nil, http.StatusOK, &list)
	if len(list.Triggers) != 1 || list.Triggers[0].Name != "orders" {
		t.Fatalf("list: %+v", list)
	}
	h.ok("GET", "/v1/triggers/orders", nil, http.StatusOK, &tr)
	h.problem("PUT", "/v1/triggers/bad", map[string]any{"type": "t"}, http.StatusBadRequest, "invalid-trigger")
	h.problem("PUT", "/v1/triggers/orders", map[string]any{"name": "other", "type": "t", "workflowType": "W"}, http.StatusBadRequest, "invalid-argument")
	h.ok("DELETE", "/v1/triggers/orders", nil, http.StatusNoContent, nil)
	h.problem("GET", "/v1/triggers/orders", nil, http.StatusNotFound, "trigger-not-found")
	h.problem("DELETE", "/v1/triggers/orders", nil, http.StatusNotFound, "trigger-not-found")

	bare := newAPI(t)
	bare.problem("GET", "/v1/triggers", nil, http.StatusNotFound, "not-served")
}

// TestWatchWorkflowsOverHTTP: GET /v1/watch/workflows streams the list's
// changes: a start, the close, and a purge.
func TestWatchWorkflowsOverHTTP(t *testing.T) {
	h := newAPI(t)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", h.srv.URL+"/v1/watch/workflows?workflowType=Greeter", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan sseEvent, 64)
	go readSSE(t, resp.Body, events)
	// wait reads events until one satisfies ok.
	wait := func(what string, ok func(sseEvent) bool) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case ev, open := <-events:
				if !open {
					t.Fatalf("the stream ended before %s", what)
				}
				if ok(ev) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s", what)
			}
		}
	}
	summary := func(status history.Status) func(sseEvent) bool {
		return func(ev sseEvent) bool {
			var s history.Summary
			return ev.event == "summary" && json.Unmarshal([]byte(ev.data), &s) == nil && s.WorkflowID == "watched" && s.Status == status
		}
	}
	h.ok("POST", "/v1/workflows", map[string]any{"workflowType": "Greeter", "workflowId": "watched", "input": "w"}, http.StatusCreated, nil)
	wait("the start", summary(history.StatusRunning))
	h.ok("POST", "/v1/workflows/watched/signal", map[string]any{"name": "greeting", "payload": "yo"}, http.StatusNoContent, nil)
	wait("the close", summary(history.StatusCompleted))
	h.ok("DELETE", "/v1/workflows/watched", nil, http.StatusNoContent, nil)
	wait("the purge", func(ev sseEvent) bool { return ev.event == "deleted" && strings.Contains(ev.data, `"watched"`) })
}

// TestCloseEndsStreams: Close ends the event streams in progress, so a
// server shutting down does not wait for their clients.
func TestCloseEndsStreams(t *testing.T) {
	env := testenv.New(t)
	api := httpapi.New(env.Client(t), nil)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/v1/watch/workflows", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		close(ended)
	}()
	api.Close()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream outlived Close")
	}
}
