package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/cairnhq/cairn/sdk/client"
)

// resetRequest is the body of POST .../reset.
type resetRequest struct {
	Run       string `json:"run"`
	EventSeq  int64  `json:"eventSeq"`
	Reason    string `json:"reason"`
	RequestID string `json:"requestId"`
}

// resetResponse is the run a reset or redrive made.
type resetResponse struct {
	Run        string `json:"run"`
	EventSeq   int64  `json:"eventSeq"`
	Terminated string `json:"terminated,omitempty"`
}

func (a *API) reset(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	res, err := a.cl.Reset(r.Context(), r.PathValue("id"), client.ResetOptions{Run: req.Run, EventSeq: req.EventSeq,
		Reason: req.Reason, RequestID: req.RequestID})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resetResponse(*res))
}

func (a *API) redrive(w http.ResponseWriter, r *http.Request) {
	var req controlRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	res, err := a.cl.Redrive(r.Context(), r.PathValue("id"), req.Run, req.Reason)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resetResponse(*res))
}

func (a *API) purge(w http.ResponseWriter, r *http.Request) {
	a.done(w, r, a.cl.Purge(r.Context(), r.PathValue("id"), r.URL.Query().Get("run")))
}

// callbackRequest is the body of POST /v1/callbacks/{action}: the token a
// workflow handed out, and the result (complete) or error (fail).
type callbackRequest struct {
	Token     string          `json:"token"`
	Result    json.RawMessage `json:"result"`
	ErrorType string          `json:"errorType"`
	Message   string          `json:"message"`
}

func (a *API) completeCallback(w http.ResponseWriter, r *http.Request) {
	a.callback(w, r, func(ctx context.Context, req callbackRequest) error {
		result := []byte(req.Result)
		if len(result) == 0 {
			result = []byte("null")
		}
		return a.cl.CompleteCallbackRaw(ctx, req.Token, result)
	})
}

func (a *API) failCallback(w http.ResponseWriter, r *http.Request) {
	a.callback(w, r, func(ctx context.Context, req callbackRequest) error {
		return a.cl.FailCallback(ctx, req.Token, req.ErrorType, req.Message)
	})
}

func (a *API) heartbeatCallback(w http.ResponseWriter, r *http.Request) {
	a.callback(w, r, func(ctx context.Context, req callbackRequest) error {
		return a.cl.HeartbeatCallback(ctx, req.Token)
	})
}

// callback decodes a callback request and does it.
func (a *API) callback(w http.ResponseWriter, r *http.Request, do func(context.Context, callbackRequest) error) {
	var req callbackRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.Token == "" {
		badRequest(w, "token is required")
		return
	}
	if err := do(r.Context(), req); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
