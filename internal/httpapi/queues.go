package httpapi

import (
	"net/http"

	"github.com/cairnhq/cairn/sdk/client"
)

func (a *API) workers(w http.ResponseWriter, r *http.Request) {
	ws, err := a.cl.Workers(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if ws == nil {
		ws = []client.WorkerInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"workers": ws})
}

func (a *API) taskQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := a.cl.TaskQueues(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if qs == nil {
		qs = []client.TaskQueue{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"taskQueues": qs})
}
