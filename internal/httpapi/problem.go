package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/sdk/client"
)

// problem is an RFC 9457 problem document. Code is cairn's typed code of
// the error, the same for every route (problemOf).
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
}

// problemTypeBase prefixes every problem type URI.
const problemTypeBase = "https://cairn.dev/problems/api/"

func writeProblem(w http.ResponseWriter, p problem) {
	if p.Type == "" {
		p.Type = problemTypeBase + p.Code
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// errorCodes map the client's typed errors to HTTP statuses and codes, in
// the order they are tried.
var errorCodes = []struct {
	err    error
	status int
	code   string
	title  string
}{
	{client.ErrScheduleNotFound, http.StatusNotFound, "schedule-not-found", "schedule not found"},
	{client.ErrScheduleExists, http.StatusConflict, "schedule-exists", "schedule id already used"},
	{client.ErrInvalidSchedule, http.StatusBadRequest, "invalid-schedule", "invalid schedule"},
	{cloudevents.ErrTriggerNotFound, http.StatusNotFound, "trigger-not-found", "trigger not found"},
	{cloudevents.ErrInvalidTrigger, http.StatusBadRequest, "invalid-trigger", "invalid trigger"},
	{client.ErrNotFound, http.StatusNotFound, "not-found", "workflow not found"},
	{client.ErrNotRunning, http.StatusConflict, "not-running", "workflow is not running"},
	{client.ErrAlreadyExists, http.StatusConflict, "already-exists", "workflow id already used"},
	{client.ErrUnknownWorkflowType, http.StatusBadRequest, "unknown-workflow-type", "unknown workflow type"},
	{client.ErrUnknownQuery, http.StatusBadRequest, "unknown-query", "unknown query"},
	{client.ErrPayloadTooLarge, http.StatusRequestEntityTooLarge, "payload-too-large", "payload too large"},
	{client.ErrInvalidInput, http.StatusBadRequest, "invalid-input", "invalid input"},
	{client.ErrInvalidReset, http.StatusBadRequest, "invalid-reset", "invalid reset"},
	{client.ErrInvalidArgument, http.StatusBadRequest, "invalid-argument", "invalid argument"},
	{client.ErrNotConfirmed, http.StatusServiceUnavailable, "not-confirmed", "not confirmed by the engine yet"},
	{client.ErrStillRunning, http.StatusConflict, "still-running", "workflow is still running"},
	{client.ErrNewerRun, http.StatusConflict, "newer-run", "workflow has a newer run"},
	{client.ErrInvalidToken, http.StatusBadRequest, "invalid-token", "invalid callback token"},
	{client.ErrCallbackNotPending, http.StatusConflict, "callback-not-pending", "callback is not pending"},
	{client.ErrCorruptHistory, http.StatusInternalServerError, "corrupt-history", "corrupt history"},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, "timeout", "timed out"},
}

// writeError writes the problem of err: a typed client error gets its
// status and code; anything else is the server's fault (500, logged).
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			writeProblem(w, problem{Status: c.status, Code: c.code, Title: c.title, Detail: err.Error()})
			return
		}
	}
	a.log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeProblem(w, problem{Status: http.StatusInternalServerError, Code: "internal", Title: "internal error", Detail: err.Error()})
}

// reply writes v as JSON with status, or the problem of err.
func (a *API) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// done answers 204 No Content, or the problem of err.
func (a *API) done(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// badRequest writes a 400 invalid-argument problem.
func badRequest(w http.ResponseWriter, detail string) {
	writeProblem(w, problem{Status: http.StatusBadRequest, Code: "invalid-argument", Title: "invalid argument", Detail: detail})
}
