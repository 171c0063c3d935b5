package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
)

// scheduleRequest is the body of POST /v1/schedules.
type scheduleRequest struct {
	ID               string               `json:"id"`
	Spec             string               `json:"spec"`
	TimeZone         string               `json:"timeZone"`
	WorkflowType     string               `json:"workflowType"`
	Input            json.RawMessage      `json:"input"`
	TaskQueue        string               `json:"taskQueue"`
	WorkflowIDPrefix string               `json:"workflowIdPrefix"`
	ExecutionTimeout string               `json:"executionTimeout"`
	Overlap          client.OverlapPolicy `json:"overlap"`
	CatchUp          client.CatchUpPolicy `json:"catchUp"`
	CatchUpWindow    string               `json:"catchUpWindow"`
	Paused           bool                 `json:"paused"`
	Note             string               `json:"note"`
}

// duration parses a request's Go duration named name into dst; "" leaves
// it 0.
func duration(w http.ResponseWriter, name, v string, dst *time.Duration) bool {
	if v == "" {
		return true
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		badRequest(w, name+": "+err.Error())
		return false
	}
	*dst = d
	return true
}

func (a *API) createSchedule(w http.ResponseWriter, r *http.Request) {
	var req scheduleRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.WorkflowType == "" {
		badRequest(w, "workflowType is required")
		return
	}
	opts := client.ScheduleOptions{ID: req.ID, Spec: req.Spec, TimeZone: req.TimeZone, Workflow: req.WorkflowType,
		TaskQueue: req.TaskQueue, WorkflowIDPrefix: req.WorkflowIDPrefix, Overlap: req.Overlap, CatchUp: req.CatchUp,
		Paused: req.Paused, Note: req.Note}
	if len(req.Input) > 0 {
		opts.Input = req.Input
	}
	if !duration(w, "executionTimeout", req.ExecutionTimeout, &opts.WorkflowExecutionTimeout) ||
		!duration(w, "catchUpWindow", req.CatchUpWindow, &opts.CatchUpWindow) {
		return
	}
	s, err := a.cl.CreateSchedule(r.Context(), opts)
	a.reply(w, r, http.StatusCreated, s, err)
}

func (a *API) listSchedules(w http.ResponseWriter, r *http.Request) {
	ss, err := a.cl.ListSchedules(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if ss == nil {
		ss = []*client.ScheduleDescription{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedules": ss})
}

func (a *API) describeSchedule(w http.ResponseWriter, r *http.Request) {
	s, err := a.cl.DescribeSchedule(r.Context(), r.PathValue("id"))
	a.reply(w, r, http.StatusOK, s, err)
}

func (a *API) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	a.done(w, r, a.cl.DeleteSchedule(r.Context(), r.PathValue("id")))
}

// noteRequest is the optional body of a schedule's pause and unpause.
type noteRequest struct {
	Note string `json:"note"`
}

func (a *API) pauseSchedule(w http.ResponseWriter, r *http.Request) {
	var req noteRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	a.done(w, r, a.cl.PauseSchedule(r.Context(), r.PathValue("id"), req.Note))
}

func (a *API) unpauseSchedule(w http.ResponseWriter, r *http.Request) {
	var req noteRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	a.done(w, r, a.cl.UnpauseSchedule(r.Context(), r.PathValue("id"), req.Note))
}

func (a *API) triggerSchedule(w http.ResponseWriter, r *http.Request) {
	id, err := a.cl.TriggerSchedule(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"workflowId": id})
}
