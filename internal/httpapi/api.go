// Package httpapi serves cairn's HTTP management API, versioned under /v1:
// start, list, describe, history, result, signal, query, cancel,
// terminate, pause and resume, as JSON, with errors as
// application/problem+json. Every operation is the Go client's
// (sdk/client), so the API, the CLI and Go programs share one
// implementation and its semantics. The routes are listed once (routes)
// and described by the OpenAPI 3.1 document served at /v1/openapi.json; a
// test keeps the two equal.
//
// It owns no authentication or limits of its own: the listener's edge
// (internal/httpedge: bearer tokens, TLS, timeouts, requests in flight)
// wraps it. It may import sdk/client, cloudevents (its triggers), history
// and the standard library.
package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"sync"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/sdk/client"
)

// OpenAPIPath is where the API's OpenAPI document is served.
const OpenAPIPath = "/v1/openapi.json"

//go:embed openapi.json
var openAPI []byte

// route is one operation of the API: its method and path pattern (Go
// ServeMux syntax, {name} for a path parameter) and its handler.
type route struct {
	method, pattern string
	handle          func(*API, http.ResponseWriter, *http.Request)
}

// routes are every operation the API serves; the OpenAPI document lists
// exactly these (TestOpenAPIDescribesEveryRoute).
var routes = []route{
	{http.MethodGet, OpenAPIPath, (*API).openAPI},
	{http.MethodGet, "/v1/workflows", (*API).list},
	{http.MethodPost, "/v1/workflows", (*API).start},
	{http.MethodGet, "/v1/count/workflows", (*API).count},
	{http.MethodGet, "/v1/workflows/{id}", (*API).describe},
	{http.MethodGet, "/v1/workflows/{id}/history", (*API).history},
	{http.MethodGet, "/v1/workflows/{id}/result", (*API).result},
	{http.MethodGet, "/v1/workflows/{id}/events", (*API).events},
	{http.MethodPost, "/v1/workflows/{id}/signal", (*API).signal},
	{http.MethodPost, "/v1/workflows/{id}/query", (*API).query},
	{http.MethodPost, "/v1/workflows/{id}/cancel", (*API).cancel},
	{http.MethodPost, "/v1/workflows/{id}/terminate", (*API).terminate},
	{http.MethodPost, "/v1/workflows/{id}/pause", (*API).pause},
	{http.MethodPost, "/v1/workflows/{id}/resume", (*API).resume},
	{http.MethodPost, "/v1/workflows/{id}/reset", (*API).reset},
	{http.MethodPost, "/v1/workflows/{id}/redrive", (*API).redrive},
	{http.MethodDelete, "/v1/workflows/{id}", (*API).purge},
	{http.MethodPost, "/v1/callbacks/complete", (*API).completeCallback},
	{http.MethodPost, "/v1/callbacks/fail", (*API).failCallback},
	{http.MethodPost, "/v1/callbacks/heartbeat", (*API).heartbeatCallback},
	{http.MethodGet, "/v1/schedules", (*API).listSchedules},
	{http.MethodPost, "/v1/schedules", (*API).createSchedule},
	{http.MethodGet, "/v1/schedules/{id}", (*API).describeSchedule},
	{http.MethodDelete, "/v1/schedules/{id}", (*API).deleteSchedule},
	{http.MethodPost, "/v1/schedules/{id}/pause", (*API).pauseSchedule},
	{http.MethodPost, "/v1/schedules/{id}/unpause", (*API).unpauseSchedule},
	{http.MethodPost, "/v1/schedules/{id}/trigger", (*API).triggerSchedule},
	{http.MethodGet, "/v1/triggers", (*API).listTriggers},
	{http.MethodGet, "/v1/triggers/{name}", (*API).getTrigger},
	{http.MethodPut, "/v1/triggers/{name}", (*API).putTrigger},
	{http.MethodDelete, "/v1/triggers/{name}", (*API).deleteTrigger},
	{http.MethodGet, "/v1/watch/workflows", (*API).watchWorkflows},
	{http.MethodGet, "/v1/workers", (*API).workers},
	{http.MethodGet, "/v1/task-queues", (*API).taskQueues},
}

// Routes lists the API's operations as "METHOD /path/{param}".
func Routes() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.method + " " + rt.pattern
	}
	return out
}

// API serves the management API of one namespace through a client.
type API struct {
	cl       *client.Client
	log      *slog.Logger
	triggers *cloudevents.Store
	// closing ends the event streams (Close).
	closing   chan struct{}
	closeOnce sync.Once
}

// Option configures New.
type Option func(*API)

// New returns the API of cl's namespace. log receives the errors that are
// the server's fault (nil: discarded).
func New(cl *client.Client, log *slog.Logger, opts ...Option) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{cl: cl, log: log, closing: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Handler serves the routes; any other path under /v1 is a 404 problem,
// and a known path with another method a 405 problem.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" "+rt.pattern, func(w http.ResponseWriter, r *http.Request) { rt.handle(a, w, r) })
		methods[rt.pattern] = append(methods[rt.pattern], rt.method)
	}
	for pattern, ms := range methods {
		allow := ""
		for i, m := range ms {
			if i > 0 {
				allow += ", "
			}
			allow += m
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeProblem(w, problem{Status: http.StatusMethodNotAllowed, Code: "method-not-allowed",
				Title: "method not allowed", Detail: r.Method + " " + r.URL.Path + ": use " + allow})
		})
	}
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem{Status: http.StatusNotFound, Code: "no-such-route", Title: "no such route",
			Detail: r.Method + " " + r.URL.Path + " is not part of the API; see " + OpenAPIPath})
	})
	return mux
}

// Close ends the event streams in progress: they last until the client
// leaves, so a server shutting down would otherwise wait for them.
// Ordinary requests are not affected.
func (a *API) Close() { a.closeOnce.Do(func() { close(a.closing) }) }

// streamContext is ctx, also canceled by Close.
func (a *API) streamContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-a.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
