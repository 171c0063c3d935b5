package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
)

// Bounds of requests.
const (
	// maxBody bounds a request body: a start's input or a signal's
	// payload, with room for the envelope.
	maxBody = 2 << 20
	// DefaultResultWait and MaxResultWait bound how long GET .../result
	// waits for a run to close: MaxResultWait stays under the listener's
	// write timeout (httpedge.DefaultWriteTimeout).
	DefaultResultWait = 30 * time.Second
	MaxResultWait     = 60 * time.Second
	// DefaultHistoryLimit and MaxHistoryLimit bound a page of history.
	DefaultHistoryLimit = 1000
	MaxHistoryLimit     = 10000
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeBody reads a JSON request body into v, refusing unknown fields,
// trailing data and bodies over maxBody. An empty body leaves v as it is
// when optional.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	switch {
	case errors.Is(err, io.EOF) && optional:
		return true
	case err != nil:
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, problem{Status: http.StatusRequestEntityTooLarge, Code: "payload-too-large", Title: "payload too large",
				Detail: fmt.Sprintf("the body exceeds %d bytes", maxBody)})
			return false
		}
		badRequest(w, "body: "+err.Error())
		return false
	case dec.More():
		badRequest(w, "body: more than one JSON value")
		return false
	}
	return true
}

// startRequest is the body of POST /v1/workflows.
type startRequest struct {
	WorkflowType     string          `json:"workflowType"`
	WorkflowID       string          `json:"workflowId"`
	TaskQueue        string          `json:"taskQueue"`
	Input            json.RawMessage `json:"input"`
	IDReusePolicy    string          `json:"idReusePolicy"`
	ExecutionTimeout string          `json:"executionTimeout"`
	RequestID        string          `json:"requestId"`
}

// startResponse is the run a start made, or found running.
type startResponse struct {
	WorkflowID string `json:"workflowId"`
	Run        string `json:"run"`
	Created    bool   `json:"created"`
}

func (a *API) start(w http.ResponseWriter, r *http.Request) {
	var req startRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.WorkflowType == "" {
		badRequest(w, "workflowType is required")
		return
	}
	opts := client.StartOptions{ID: req.WorkflowID, TaskQueue: req.TaskQueue, RequestID: req.RequestID}
	if req.IDReusePolicy != "" {
		p, err := client.ParseWorkflowIDReusePolicy(req.IDReusePolicy)
		if err != nil {
			badRequest(w, "idReusePolicy: "+err.Error())
			return
		}
		opts.WorkflowIDReusePolicy = p
	}
	if req.ExecutionTimeout != "" {
		d, err := time.ParseDuration(req.ExecutionTimeout)
		if err != nil {
			badRequest(w, "executionTimeout: "+err.Error())
			return
		}
		opts.WorkflowExecutionTimeout = d
	}
	input := []byte(req.Input)
	if len(input) == 0 {
		input = []byte("null")
	}
	run, err := a.cl.StartRaw(r.Context(), opts, req.WorkflowType, input)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if run.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, startResponse{WorkflowID: run.ID, Run: run.Run, Created: run.Created})
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	opts, ok := listOptions(w, r)
	if !ok {
		return
	}
	page, err := a.cl.ListPage(r.Context(), opts)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if page.Summaries == nil {
		page.Summaries = []history.Summary{}
	}
	writeJSON(w, http.StatusOK, page)
}

func (a *API) count(w http.ResponseWriter, r *http.Request) {
	opts, ok := listOptions(w, r)
	if !ok {
		return
	}
	n, err := a.cl.Count(r.Context(), opts)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
}

// listOptions reads the list filters of a request's query.
func listOptions(w http.ResponseWriter, r *http.Request) (client.ListOptions, bool) {
	q := r.URL.Query()
	opts := client.ListOptions{Status: history.Status(q.Get("status")), WorkflowType: q.Get("workflowType"),
		TaskQueue: q.Get("taskQueue"), PageToken: q.Get("pageToken")}
	for name, dst := range map[string]*time.Time{"startedAfter": &opts.StartedAfter, "startedBefore": &opts.StartedBefore,
		"closedAfter": &opts.ClosedAfter, "closedBefore": &opts.ClosedBefore} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				badRequest(w, name+": want an RFC 3339 time: "+err.Error())
				return opts, false
			}
			*dst = t
		}
	}
	for _, f := range q["attr"] {
		af, err := client.ParseAttributeFilter(f)
		if err != nil {
			badRequest(w, "attr: "+err.Error())
			return opts, false
		}
		opts.Attributes = append(opts.Attributes, af)
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > client.MaxPageSize {
			badRequest(w, fmt.Sprintf("pageSize %q: want 1-%d", v, client.MaxPageSize))
			return opts, false
		}
		opts.PageSize = n
	}
	return opts, true
}

func (a *API) describe(w http.ResponseWriter, r *http.Request) {
	d, err := a.cl.Describe(r.Context(), r.PathValue("id"), r.URL.Query().Get("run"))
	a.reply(w, r, http.StatusOK, d, err)
}

// historyPage is a page of a run's events, oldest first. Next is the
// after of the next page; 0 on the last one.
type historyPage struct {
	Events []history.ExportedEvent `json:"events"`
	Next   int64                   `json:"next,omitempty"`
}

func (a *API) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := int64(0), DefaultHistoryLimit
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			badRequest(w, fmt.Sprintf("after %q: want an event sequence >= 0", v))
			return
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxHistoryLimit {
			badRequest(w, fmt.Sprintf("limit %q: want 1-%d", v, MaxHistoryLimit))
			return
		}
		limit = n
	}
	batches, err := a.cl.HistoryBatches(r.Context(), r.PathValue("id"), q.Get("run"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	page := historyPage{Events: []history.ExportedEvent{}}
	for _, ev := range history.ExportEvents(batches) {
		if ev.Seq <= after {
			continue
		}
		if len(page.Events) == limit {
			page.Next = page.Events[len(page.Events)-1].Seq
			break
		}
		page.Events = append(page.Events, ev)
	}
	writeJSON(w, http.StatusOK, page)
}

// resultResponse is a run's outcome: its status, and its result (completed)
// or failure (failed, canceled, terminated, timed out). A run still
// running when the wait ends has neither.
type resultResponse struct {
	WorkflowID string           `json:"workflowId"`
	Run        string           `json:"run"`
	Status     history.Status   `json:"status"`
	Result     json.RawMessage  `json:"result,omitempty"`
	Failure    *history.Failure `json:"failure,omitempty"`
}

func (a *API) result(w http.ResponseWriter, r *http.Request) {
	id, run := r.PathValue("id"), r.URL.Query().Get("run")
	wait := DefaultResultWait
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxResultWait {
			badRequest(w, fmt.Sprintf("wait %q: want a duration from 0s to %v", v, MaxResultWait))
			return
		}
		wait = d
	}
	// Long poll: wait for the close (or the deadline), then answer from
	// the run's description, whatever the outcome.
	wctx, cancel := context.WithTimeout(r.Context(), wait)
	var raw json.RawMessage
	err := a.cl.Result(wctx, id, run, &raw)
	cancel()
	if errors.Is(err, client.ErrNotFound) || errors.Is(err, client.ErrCorruptHistory) {
		a.writeError(w, r, err)
		return
	}
	if r.Context().Err() != nil {
		return // the caller left
	}
	d, err := a.cl.Describe(r.Context(), id, run)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	resp := resultResponse{WorkflowID: d.WorkflowID, Run: d.Run, Status: d.Status}
	switch d.Status {
	case history.StatusRunning:
	case history.StatusCompleted:
		resp.Result = d.Result
		if len(resp.Result) == 0 {
			resp.Result = json.RawMessage("null")
		}
	default:
		resp.Failure = d.Failure
	}
	writeJSON(w, http.StatusOK, resp)
}

// signalRequest is the body of POST .../signal.
type signalRequest struct {
	Name     string          `json:"name"`
	Payload  json.RawMessage `json:"payload"`
	Run      string          `json:"run"`
	SignalID string          `json:"signalId"`
}

func (a *API) signal(w http.ResponseWriter, r *http.Request) {
	var req signalRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.Name == "" {
		badRequest(w, "name is required")
		return
	}
	a.done(w, r, a.cl.SignalRaw(r.Context(), r.PathValue("id"), req.Run, req.Name, req.Payload, req.SignalID))
}

// queryRequest is the body of POST .../query.
type queryRequest struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

func (a *API) query(w http.ResponseWriter, r *http.Request) {
	var req queryRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.Name == "" {
		badRequest(w, "name is required")
		return
	}
	out, err := a.cl.QueryRaw(r.Context(), r.PathValue("id"), req.Name, req.Args)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if len(out) == 0 {
		out = []byte("null")
	}
	writeJSON(w, http.StatusOK, map[string]json.RawMessage{"result": out})
}

// controlRequest is the optional body of cancel, terminate, pause and
// resume.
type controlRequest struct {
	Run    string `json:"run"`
	Reason string `json:"reason"`
}

// control serves cancel, terminate, pause and resume: do with the body's
// run and reason.
func (a *API) control(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, id, run, reason string) error) {
	var req controlRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	if err := do(r.Context(), r.PathValue("id"), req.Run, req.Reason); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) cancel(w http.ResponseWriter, r *http.Request)    { a.control(w, r, a.cl.Cancel) }
func (a *API) terminate(w http.ResponseWriter, r *http.Request) { a.control(w, r, a.cl.Terminate) }
func (a *API) pause(w http.ResponseWriter, r *http.Request)     { a.control(w, r, a.cl.Pause) }
func (a *API) resume(w http.ResponseWriter, r *http.Request)    { a.control(w, r, a.cl.Resume) }
