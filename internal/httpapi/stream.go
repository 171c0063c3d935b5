package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
)

// keepAlive is how often an idle event stream sends a comment, so proxies
// and clients see the connection alive.
const keepAlive = 15 * time.Second

// errClientGone ends a stream whose client left.
var errClientGone = errors.New("client gone")

// sse writes a Server-Sent Events stream: events, and a keep-alive comment
// when idle. Writes are serialized.
type sse struct {
	mu   sync.Mutex
	w    http.ResponseWriter
	rc   *http.ResponseController
	stop func()
}

// startSSE begins an event stream on w, until ctx ends or stop is called.
func startSSE(ctx context.Context, w http.ResponseWriter) (*sse, error) {
	rc := http.NewResponseController(w)
	// A stream outlives the listener's write timeout, which bounds
	// ordinary responses.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	s := &sse{w: w, rc: rc}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s.stop = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(keepAlive)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.mu.Lock()
				_, _ = fmt.Fprint(w, ": keep-alive\n\n")
				_ = rc.Flush()
				s.mu.Unlock()
			}
		}
	}()
	return s, nil
}

// send writes one event: its type, id (if any) and data as JSON.
func (s *sse) send(event, id string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "" {
		if _, err := fmt.Fprintf(s.w, "id: %s\n", id); err != nil {
			return errClientGone
		}
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return errClientGone
	}
	if err := s.rc.Flush(); err != nil {
		return errClientGone
	}
	return nil
}

// lastEventID reads where a stream resumes: the query's after, or the
// Last-Event-ID a reconnecting EventSource sends (the larger).
func lastEventID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	after := int64(0)
	for _, v := range []string{r.URL.Query().Get("after"), r.Header.Get("Last-Event-ID")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			badRequest(w, fmt.Sprintf("after %q: want an event sequence >= 0", v))
			return 0, false
		}
		after = max(after, n)
	}
	return after, true
}

// events streams a run's events as Server-Sent Events: each event as
// "event: <type>" with its sequence as the id and its JSON as the data,
// from after until the run closes, then an "end" event with the run and
// its status. Problems before the stream begins are problem documents;
// after, an "error" event.
func (a *API) events(w http.ResponseWriter, r *http.Request) {
	after, ok := lastEventID(w, r)
	if !ok {
		return
	}
	id, run := r.PathValue("id"), r.URL.Query().Get("run")
	// Unknown ids are a 404 problem, not an empty stream; the run is
	// fixed now, so a newer one does not take over the stream.
	d, err := a.cl.Describe(r.Context(), id, run)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	run = d.Run
	ctx, cancel := a.streamContext(r.Context())
	defer cancel()
	s, err := startSSE(ctx, w)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer s.stop()
	err = a.cl.WatchHistory(ctx, id, run, after, func(ev history.ExportedEvent) error {
		return s.send(string(ev.Type), strconv.FormatInt(ev.Seq, 10), ev)
	})
	switch {
	case err == nil:
		end := map[string]any{}
		if d, err := a.cl.Describe(ctx, id, run); err == nil {
			end["run"], end["status"] = d.Run, d.Status
		}
		_ = s.send("end", "", end)
	case errors.Is(err, errClientGone), ctx.Err() != nil:
	default:
		a.log.Warn("event stream ended", "workflow_id", id, "error", err)
		_ = s.send("error", "", map[string]string{"detail": err.Error()})
	}
}

// watchWorkflows streams the changes of the workflow list as Server-Sent
// Events from now on: "summary" with a run's summary as written (started,
// closed, parked, paused, ...) and "deleted" with the id of a purged
// instance, each with the listing's revision as its id. workflowType and
// taskQueue, if given, keep the changes of that type or queue only.
func (a *API) watchWorkflows(w http.ResponseWriter, r *http.Request) {
	typ, queue := r.URL.Query().Get("workflowType"), r.URL.Query().Get("taskQueue")
	ctx, cancel := a.streamContext(r.Context())
	defer cancel()
	s, err := startSSE(ctx, w)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer s.stop()
	err = a.cl.WatchSummaries(ctx, func(ch client.SummaryChange) error {
		id := strconv.FormatUint(ch.Revision, 10)
		if ch.Deleted {
			return s.send("deleted", id, map[string]string{"workflowId": ch.Summary.WorkflowID})
		}
		if (typ != "" && ch.Summary.WorkflowType != typ) || (queue != "" && ch.Summary.TaskQueue != queue) {
			return nil
		}
		return s.send("summary", id, ch.Summary)
	})
	if err != nil && !errors.Is(err, errClientGone) && ctx.Err() == nil {
		a.log.Warn("workflow list stream ended", "error", err)
		_ = s.send("error", "", map[string]string{"detail": err.Error()})
	}
}
