package httpapi

import (
	"net/http"

	"github.com/cairnhq/cairn/cloudevents"
)

// WithTriggers serves the CloudEvents triggers of store under
// /v1/triggers; without it those routes answer 404 not-served.
func WithTriggers(store *cloudevents.Store) Option {
	return func(a *API) { a.triggers = store }
}

// triggerStore returns the triggers store, or writes a problem.
func (a *API) triggerStore(w http.ResponseWriter) *cloudevents.Store {
	if a.triggers == nil {
		writeProblem(w, problem{Status: http.StatusNotFound, Code: "not-served", Title: "not served",
			Detail: "this server does not serve CloudEvents triggers"})
	}
	return a.triggers
}

func (a *API) listTriggers(w http.ResponseWriter, r *http.Request) {
	s := a.triggerStore(w)
	if s == nil {
		return
	}
	ts, err := s.List(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if ts == nil {
		ts = []cloudevents.Trigger{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"triggers": ts})
}

func (a *API) getTrigger(w http.ResponseWriter, r *http.Request) {
	s := a.triggerStore(w)
	if s == nil {
		return
	}
	t, err := s.Get(r.Context(), r.PathValue("name"))
	a.reply(w, r, http.StatusOK, t, err)
}

// putTrigger stores the body as the trigger of the path's name (created or
// replaced).
func (a *API) putTrigger(w http.ResponseWriter, r *http.Request) {
	s := a.triggerStore(w)
	if s == nil {
		return
	}
	var t cloudevents.Trigger
	if !decodeBody(w, r, &t, false) {
		return
	}
	name := r.PathValue("name")
	if t.Name != "" && t.Name != name {
		badRequest(w, "the body names trigger "+t.Name+", the path "+name)
		return
	}
	t.Name = name
	if err := s.Put(r.Context(), t); err != nil {
		a.writeError(w, r, err)
		return
	}
	stored, err := s.Get(r.Context(), name)
	a.reply(w, r, http.StatusOK, stored, err)
}

func (a *API) deleteTrigger(w http.ResponseWriter, r *http.Request) {
	s := a.triggerStore(w)
	if s == nil {
		return
	}
	a.done(w, r, s.Delete(r.Context(), r.PathValue("name")))
}
