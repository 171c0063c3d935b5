package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cairnhq/cairn/history"
)

// keepAlive is how often an idle event stream sends a comment, so proxies
// and clients see the connection alive.
const keepAlive = 15 * time.Second

// errClientGone ends a stream whose client left.
var errClientGone = errors.New("client gone")

// events streams a run's events as Server-Sent Events: each event as
// "event: <type>" with its sequence as the id and its JSON as the data,
// from after (the query's after, or the Last-Event-ID a reconnecting
// EventSource sends) until the run closes, then an "end" event with the
// run's status. Problems before the first event are problem documents;
// after it, an "error" event.
func (a *API) events(w http.ResponseWriter, r *http.Request) {
	after := int64(0)
	for _, v := range []string{r.URL.Query().Get("after"), r.Header.Get("Last-Event-ID")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			badRequest(w, fmt.Sprintf("after %q: want an event sequence >= 0", v))
			return
		}
		after = max(after, n)
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
	rc := http.NewResponseController(w)
	// A stream outlives the listener's write timeout, which bounds
	// ordinary responses.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event, id string, data any) error {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		if id != "" {
			if _, err := fmt.Fprintf(w, "id: %s\n", id); err != nil {
				return errClientGone
			}
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return errClientGone
		}
		if err := rc.Flush(); err != nil {
			return errClientGone
		}
		return nil
	}
	_ = rc.Flush()

	// The keep-alive comments and the events share the writer.
	var mu sync.Mutex
	locked := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	ctx := r.Context()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(keepAlive)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				locked(func() { _, _ = fmt.Fprint(w, ": keep-alive\n\n"); _ = rc.Flush() })
			}
		}
	}()
	err = a.cl.WatchHistory(ctx, id, run, after, func(ev history.ExportedEvent) error {
		var err error
		locked(func() { err = send(string(ev.Type), strconv.FormatInt(ev.Seq, 10), ev) })
		return err
	})
	switch {
	case err == nil:
		end := map[string]any{}
		if d, err := a.cl.Describe(ctx, id, run); err == nil {
			end["run"], end["status"] = d.Run, d.Status
		}
		locked(func() { _ = send("end", "", end) })
	case errors.Is(err, errClientGone), ctx.Err() != nil:
	default:
		a.log.Warn("event stream ended", "workflow_id", id, "error", err)
		locked(func() { _ = send("error", "", map[string]string{"detail": err.Error()}) })
	}
}
