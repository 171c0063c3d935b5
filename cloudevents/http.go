package cloudevents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/internal/httpedge"
)

// EventsPath is the path of the HTTP endpoint.
const EventsPath = "/v1/events"

func newJetStream(nc *nats.Conn) (jetstream.JetStream, error) { return jetstream.New(nc) }

// Problem is an RFC 9457 problem details body (application/problem+json).
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status,omitempty"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"`
	// Events, for a batch: the answer per event, in order.
	Events []BatchItem `json:"events,omitempty"`
	// Outcomes of the triggers that processed the event before one
	// rejected it.
	Outcomes []Outcome `json:"outcomes,omitempty"`
}

// BatchItem is the answer to one event of a batch.
type BatchItem struct {
	Index    int       `json:"index"`
	ID       string    `json:"id,omitempty"`
	Source   string    `json:"source,omitempty"`
	Outcomes []Outcome `json:"outcomes,omitempty"`
	Error    *Problem  `json:"error,omitempty"`
}

func problemOf(rej *Rejection, status int) *Problem {
	return &Problem{Type: "https://cairn.dev/problems/events/" + rej.Code, Title: "event rejected", Status: status,
		Detail: rej.Reason, Code: rej.Code, Outcomes: rej.Outcomes}
}

// Handler serves POST /v1/events: one CloudEvent in binary or structured
// content mode, or a batch (application/cloudevents-batch+json). An accepted
// event is answered 202 with the Accepted JSON (a batch: {"events": [...]});
// a rejected one 400 with application/problem+json, and copied to the
// rejected subject. An engine failure is 503; the caller should retry. A
// panic while serving is answered 500. The handler does not authenticate:
// wrap it (internal/httpedge.RequireBearer does in cairn's servers).
func (in *Ingress) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+EventsPath, in.serveEvents)
	mux.HandleFunc(EventsPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "POST")
		writeProblem(w, &Problem{Type: "about:blank", Title: "method not allowed", Status: http.StatusMethodNotAllowed,
			Detail: "POST CloudEvents to " + EventsPath, Code: "method-not-allowed"})
	})
	// The panic of a decoder or of a trigger's template must cost the
	// client a 500, not a closed connection.
	return httpedge.Recover(in.log, mux)
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	if p.Code != "" {
		w.Header().Set(HeaderRejectCode, p.Code)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (in *Ingress) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(in.opts.maxEventSize)+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			writeProblem(w, &Problem{Type: "about:blank", Title: "cannot read the request", Status: http.StatusBadRequest,
				Detail: err.Error(), Code: CodeInvalid})
			return
		}
		body = body[:min(len(body), in.opts.maxEventSize)]
	}
	if len(body) > in.opts.maxEventSize {
		rej := reject(CodeTooLarge, "the request body is more than %d bytes, the limit", in.opts.maxEventSize)
		in.publishRejected("", httpToNATSHeader(r.Header), body, rej)
		writeProblem(w, problemOf(rej, http.StatusBadRequest))
		return
	}
	if rej := checkHTTPHeaders(r.Header); rej != nil {
		in.publishRejected("", httpToNATSHeader(r.Header), body, rej)
		writeProblem(w, problemOf(rej, http.StatusBadRequest))
		return
	}
	ctx := r.Context()
	msg := cehttp.NewMessage(r.Header, io.NopCloser(bytes.NewReader(body)))
	if msg.ReadEncoding() == binding.EncodingBatch {
		in.serveBatch(ctx, w, r, body)
		return
	}
	ev, err := binding.ToEvent(ctx, msg)
	if err == nil {
		err = ev.Validate()
	}
	if err != nil {
		rej := reject(CodeInvalid, "not a valid CloudEvent (binary mode needs ce-specversion, ce-id, ce-source and ce-type headers; structured mode the content type %s): %v",
			event.ApplicationCloudEventsJSON, err)
		in.publishRejected("", httpToNATSHeader(r.Header), body, rej)
		writeProblem(w, problemOf(rej, http.StatusBadRequest))
		return
	}
	acc, err := in.Process(ctx, ev)
	var rej *Rejection
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, acc)
	case errors.As(err, &rej):
		in.publishRejectedEvent(ctx, ev, rej)
		writeProblem(w, problemOf(rej, http.StatusBadRequest))
	default:
		in.log.Warn("event not processed", "id", ev.ID(), "source", ev.Source(), "error", err)
		writeProblem(w, &Problem{Type: "about:blank", Title: "engine unavailable", Status: http.StatusServiceUnavailable,
			Detail: err.Error(), Code: CodeInternal})
	}
}

// serveBatch processes every event of a batch. A batch that is not a JSON
// array of valid CloudEvents, or holds more than the batch limit, is
// rejected whole: nothing of it is processed and one copy, of the request,
// goes to the rejected subject, so a hostile batch costs one message
// whatever it holds. Otherwise the answer is 202 if all were accepted, else
// 400 with the answer per event; accepted events stay processed, and
// sending the batch again is safe (duplicates are recognized).
func (in *Ingress) serveBatch(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) {
	events, rej, invalid := in.decodeBatch(body)
	if rej != nil {
		in.publishRejected("", httpToNATSHeader(r.Header), body, rej)
		p := problemOf(rej, http.StatusBadRequest)
		p.Events = invalid
		writeProblem(w, p)
		return
	}
	items := make([]BatchItem, len(events))
	rejected, failed, firstFailed := 0, 0, 0
	for i := range events {
		ev := &events[i]
		items[i] = BatchItem{Index: i, ID: ev.ID(), Source: ev.Source()}
		if failed > 0 {
			// The engine failed after its retries: the next events would
			// each wait as long, past the server's write timeout. The
			// client sends the batch again.
			items[i].Error = &Problem{Type: "about:blank", Title: "not processed", Code: CodeInternal,
				Detail: fmt.Sprintf("not attempted: the engine failed on event %d", firstFailed)}
			failed++
			continue
		}
		acc, err := in.Process(ctx, ev)
		var rej *Rejection
		switch {
		case err == nil:
			items[i].Outcomes = acc.Outcomes
		case errors.As(err, &rej):
			in.publishRejectedEvent(ctx, ev, rej)
			items[i].Error = problemOf(rej, 0)
			rejected++
		default:
			items[i].Error = &Problem{Type: "about:blank", Title: "engine unavailable", Detail: err.Error(), Code: CodeInternal}
			failed, firstFailed = failed+1, i
		}
	}
	switch {
	case rejected == 0 && failed == 0:
		writeJSON(w, http.StatusAccepted, map[string]any{"events": items})
	case rejected == 0:
		writeProblem(w, &Problem{Type: "about:blank", Title: "engine unavailable", Status: http.StatusServiceUnavailable,
			Detail: fmt.Sprintf("%d of %d events were not processed; send the batch again", failed, len(items)), Code: CodeInternal, Events: items})
	default:
		writeProblem(w, &Problem{Type: "https://cairn.dev/problems/events/batch", Title: "events rejected", Status: http.StatusBadRequest,
			Detail: fmt.Sprintf("%d of %d events were rejected", rejected, len(items)), Code: "batch-rejected", Events: items})
	}
}

// maxInvalidListed bounds the per-event errors of a rejected batch's
// answer: enough to fix a client, not a way to make the answer large.
const maxInvalidListed = 10

// decodeBatch decodes and validates every event of a batch before any is
// processed. It returns the events, or the rejection of the whole batch and
// the first invalid events.
func (in *Ingress) decodeBatch(body []byte) ([]event.Event, *Rejection, []BatchItem) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, reject(CodeInvalid, "a batch must be a JSON array of CloudEvents: %v", err), nil
	}
	if len(raws) > in.opts.maxBatchEvents {
		return nil, reject(CodeBatchTooLarge, "the batch holds %d events, the limit is %d; nothing was processed",
			len(raws), in.opts.maxBatchEvents), nil
	}
	events := make([]event.Event, len(raws))
	var invalid []BatchItem
	bad := 0
	for i, raw := range raws {
		events[i] = event.New()
		err := json.Unmarshal(raw, &events[i])
		if err == nil {
			err = events[i].Validate()
		}
		if err != nil {
			bad++
			if len(invalid) < maxInvalidListed {
				invalid = append(invalid, BatchItem{Index: i, Error: problemOf(reject(CodeInvalid, "%v", err), 0)})
			}
		}
	}
	if bad > 0 {
		return nil, reject(CodeInvalid, "%d of %d batch events are not valid CloudEvents (the first: event %d: %s); nothing was processed",
			bad, len(raws), invalid[0].Index, invalid[0].Error.Detail), invalid
	}
	return events, nil, nil
}

// publishRejectedEvent copies a decoded but rejected event, in structured
// mode, to the rejected subject.
func (in *Ingress) publishRejectedEvent(ctx context.Context, ev *event.Event, rej *Rejection) {
	// Structured mode when the event has a JSON form; binary mode, which
	// carries the data as it came, when it does not (data that is not
	// JSON under no content type, the very reason of some rejections), so
	// the copy never loses the event.
	msg, err := NewNATSMsg(ctx, RejectedSubject(in.ns), ev, false)
	if err != nil {
		msg, err = NewNATSMsg(ctx, RejectedSubject(in.ns), ev, true)
	}
	if err != nil {
		b, _ := json.Marshal(ev)
		msg = &nats.Msg{Header: nats.Header{"Content-Type": []string{event.ApplicationCloudEventsJSON}}, Data: b}
	}
	in.publishRejected("", msg.Header, msg.Data, rej)
}

// httpToNATSHeader keeps the CloudEvents headers of an HTTP request, in the
// NATS binary-mode spelling, for the rejected copy.
func httpToNATSHeader(h http.Header) nats.Header {
	out := nats.Header{}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, natsHeaderPrefix) || lk == natsHeaderContentType {
			out[lk] = append([]string(nil), vs...)
		}
	}
	return out
}
