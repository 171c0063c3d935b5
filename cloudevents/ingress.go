package cloudevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/converter"
)

// Rejection codes: the Cairn-Reject-Code header of a rejected copy and the
// "code" member of a problem+json body.
const (
	CodeInvalid         = "invalid-event"         // not a CloudEvent, or required attributes missing
	CodeNoTrigger       = "no-trigger"            // no trigger matches the event
	CodeBadData         = "bad-data"              // data is not JSON, or lacks the input field
	CodeTooLarge        = "too-large"             // the event exceeds the size limit
	CodeBadWorkflowID   = "bad-workflow-id"       // the workflow id template failed
	CodeUnknownWorkflow = "unknown-workflow-type" // no worker ever registered the workflow type
	CodeNotRunning      = "not-running"           // a signal's workflow is not running
	CodeInternal        = "internal"              // the engine failed repeatedly; the event was not processed
	CodeBatchTooLarge   = "batch-too-large"       // an HTTP batch holds more events than the limit
)

// Headers of a rejected copy.
const (
	HeaderRejectReason    = "Cairn-Reject-Reason"
	HeaderRejectCode      = "Cairn-Reject-Code"
	HeaderOriginalSubject = "Cairn-Original-Subject"
)

// Defaults of the ingress.
const (
	DefaultMaxEventSize = 1 << 20
	DefaultQueueGroup   = "cairn-events"
	// DefaultMaxBatchEvents bounds the events of one HTTP batch, and so
	// the work and the rejected copies one request can cause.
	DefaultMaxBatchEvents = 100
	defaultWorkers        = 8
)

// Rejection is why an event was not accepted. It is permanent: delivering
// the same event again gives the same answer (except CodeInternal and
// CodeNotRunning, which depend on the engine's state).
type Rejection struct {
	Code   string
	Reason string
	// Outcomes of the triggers that did process the event before another
	// one rejected it.
	Outcomes []Outcome
}

func (r *Rejection) Error() string { return r.Code + ": " + r.Reason }

func reject(code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Outcome is what one trigger did with an event.
type Outcome struct {
	Trigger    string `json:"trigger"`
	Kind       string `json:"kind"`
	WorkflowID string `json:"workflowId"`
	Run        string `json:"run,omitempty"`
	// Created is true when this delivery started the run; false for a
	// duplicate delivery (the run exists already).
	Created bool `json:"created"`
	// Signal is the external event raised, for signal triggers.
	Signal string `json:"signal,omitempty"`
}

// Accepted is the answer to an accepted event.
type Accepted struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	Type     string    `json:"type"`
	Outcomes []Outcome `json:"outcomes"`
}

// Ingress turns CloudEvents into workflow starts and signals according to
// the triggers of its namespace. It serves NATS (Serve) and HTTP (Handler).
type Ingress struct {
	nc    *nats.Conn
	cl    *client.Client
	ns    string
	store *Store
	snap  *snapshot
	opts  ingressOptions
	log   *slog.Logger
	// ready is closed once Serve's subscription is in place on the server.
	ready     chan struct{}
	readyOnce sync.Once
	// dropped counts events the NATS client dropped (slow consumer).
	dropped atomic.Int64
}

// Ready is closed once Serve listens (its subscription reached the
// server): events published from then on are received.
func (in *Ingress) Ready() <-chan struct{} { return in.ready }

// IngressOption configures an Ingress.
type IngressOption func(*ingressOptions)

type ingressOptions struct {
	maxEventSize int
	queueGroup   string
	workers      int
	logger       *slog.Logger
	retries      int
	retryDelay   time.Duration
	dc           converter.DataConverter
	// maxBatchEvents bounds an HTTP batch.
	maxBatchEvents int
	pendingMsgs    int
	pendingBytes   int
	meterProvider  metric.MeterProvider
	// err is the first invalid option; NewIngress returns it.
	err error
}

// ErrInvalidOption is wrapped by the error NewIngress returns for an
// option given an invalid value.
var ErrInvalidOption = errors.New("cloudevents: invalid option")

// WithMaxBatchEvents bounds the number of events in one HTTP batch
// (default DefaultMaxBatchEvents); a larger batch is rejected whole with
// CodeBatchTooLarge. n must be at least 1.
func WithMaxBatchEvents(n int) IngressOption {
	return func(o *ingressOptions) {
		if n < 1 {
			o.fail(fmt.Errorf("%w: max batch events %d, want at least 1", ErrInvalidOption, n))
			return
		}
		o.maxBatchEvents = n
	}
}

func (o *ingressOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// WithMaxEventSize bounds an event's encoded size (default 1 MiB); larger
// events are rejected with CodeTooLarge.
func WithMaxEventSize(n int) IngressOption {
	return func(o *ingressOptions) {
		if n > 0 {
			o.maxEventSize = n
		}
	}
}

// WithQueueGroup sets the NATS queue group the ingress subscribes in
// (default "cairn-events"), so several servers share the events.
func WithQueueGroup(g string) IngressOption { return func(o *ingressOptions) { o.queueGroup = g } }

// WithWorkers sets how many events the NATS subscription processes at once
// (default 8). Events on one subject are processed in order.
func WithWorkers(n int) IngressOption {
	return func(o *ingressOptions) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithDataConverter encodes the workflow inputs and signal payloads the
// ingress derives from event data with dc before they are recorded. Give
// it the encrypting converter of the namespace's workers (see
// converter.NewEncryptingDataConverter): the ingress starts runs with the
// event's JSON as input, and a worker that refuses clear payloads fails
// such runs. By default the event data is recorded as is, in clear.
func WithDataConverter(dc converter.DataConverter) IngressOption {
	return func(o *ingressOptions) { o.dc = dc }
}

// WithIngressLogger sets the logger.
func WithIngressLogger(l *slog.Logger) IngressOption { return func(o *ingressOptions) { o.logger = l } }

// NewIngress opens (creating if needed) the triggers bucket and starts
// watching it; the watch stops when ctx ends. cl must be a client of the
// namespace the events are for.
func NewIngress(ctx context.Context, nc *nats.Conn, cl *client.Client, opts ...IngressOption) (*Ingress, error) {
	o := ingressOptions{maxEventSize: DefaultMaxEventSize, queueGroup: DefaultQueueGroup, workers: defaultWorkers,
		retries: 5, retryDelay: 200 * time.Millisecond, maxBatchEvents: DefaultMaxBatchEvents,
		pendingMsgs: DefaultPendingMsgs, pendingBytes: DefaultPendingBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.err == nil && o.pendingBytes < o.maxEventSize {
		o.fail(fmt.Errorf("%w: pending limit %d bytes is less than the event size limit %d", ErrInvalidOption, o.pendingBytes, o.maxEventSize))
	}
	if o.err != nil {
		return nil, o.err
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	js, err := newJetStream(nc)
	if err != nil {
		return nil, err
	}
	store, err := OpenStore(ctx, js, cl.Namespace())
	if err != nil {
		return nil, err
	}
	in := &Ingress{nc: nc, cl: cl, ns: cl.Namespace(), store: store, snap: newSnapshot(), opts: o,
		log: o.logger.With("component", "events"), ready: make(chan struct{})}
	if err := in.registerMetrics(); err != nil {
		return nil, err
	}
	if err := store.watch(ctx, in.snap, in.log.Warn); err != nil {
		return nil, err
	}
	select {
	case <-in.snap.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return in, nil
}

// Store is the ingress's trigger store.
func (in *Ingress) Store() *Store { return in.store }

// EventsSubject is the subject events for namespace ns are published to:
// "cairn.<ns>.events.<suffix>" (the ingress listens on
// "cairn.<ns>.events.>").
func EventsSubject(ns, suffix string) string { return "cairn." + ns + ".events." + suffix }

// RejectedSubject carries a copy of every rejected event of ns.
func RejectedSubject(ns string) string { return "cairn." + ns + ".events.rejected" }

// Process runs the matching triggers on ev. It returns the outcomes, or a
// *Rejection. Other errors are failures of the engine (the event may be
// retried).
func (in *Ingress) Process(ctx context.Context, ev *event.Event) (*Accepted, error) {
	if err := ev.Validate(); err != nil {
		return nil, reject(CodeInvalid, "%v", err)
	}
	triggers := in.snap.matching(func(t *Trigger) bool { return t.Matches(ev) })
	if len(triggers) == 0 {
		return nil, reject(CodeNoTrigger, "no trigger matches type %q from source %q", ev.Type(), ev.Source())
	}
	raw, data, err := eventData(ev)
	if err != nil {
		return nil, reject(CodeBadData, "%v", err)
	}
	ctx = traceContext(ctx, ev)
	acc := &Accepted{ID: ev.ID(), Source: ev.Source(), Type: ev.Type()}
	for _, t := range triggers {
		out, err := in.apply(ctx, t, ev, raw, data)
		if err != nil {
			var rej *Rejection
			if errors.As(err, &rej) {
				rej.Reason = fmt.Sprintf("trigger %q: %s", t.Name, rej.Reason)
				rej.Outcomes = acc.Outcomes
			}
			return nil, err
		}
		acc.Outcomes = append(acc.Outcomes, out)
	}
	return acc, nil
}

// traceContext continues the caller's trace: the CloudEvents
// distributed-tracing extension (traceparent, tracestate) becomes the
// remote span context of ctx, which the client records with the run.
func traceContext(ctx context.Context, ev *event.Event) context.Context {
	carrier := propagation.MapCarrier{}
	for _, k := range []string{"traceparent", "tracestate"} {
		if v, ok := ev.Extensions()[k]; ok {
			if s, ok := v.(string); ok && s != "" {
				carrier[k] = s
			}
		}
	}
	if len(carrier) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, carrier)
}

func (in *Ingress) apply(ctx context.Context, t *Trigger, ev *event.Event, raw json.RawMessage, data any) (Outcome, error) {
	out := Outcome{Trigger: t.Name, Kind: t.Kind}
	id, err := t.workflowID(ev, data)
	if err != nil {
		return out, reject(CodeBadWorkflowID, "%v", err)
	}
	out.WorkflowID = id
	input, err := t.input(raw, data)
	if err != nil {
		return out, reject(CodeBadData, "%v", err)
	}
	if in.opts.dc != nil {
		// A json.RawMessage passes through the JSON layer verbatim, so
		// only the converter's codecs (encryption) change it.
		if input, err = in.opts.dc.ToPayload(input); err != nil {
			return out, fmt.Errorf("events: encode the input of trigger %q: %w", t.Name, err)
		}
	}
	key := EventKey(t.Name, ev.Source(), ev.ID())
	switch t.Kind {
	case KindSignal:
		out.Signal = t.SignalName
		err = in.retry(ctx, func() error {
			return in.cl.SignalRaw(ctx, id, "", t.SignalName, input, "ce-"+key)
		})
		return out, classify(err)
	default:
		reuse, _ := reusePolicy(t.ReusePolicy)
		if t.idTmpl == nil {
			reuse = client.WorkflowIDReusePolicyRejectDuplicate
		}
		var run *client.WorkflowRun
		err = in.retry(ctx, func() (err error) {
			run, err = in.cl.StartRaw(ctx, client.StartOptions{ID: id, TaskQueue: t.TaskQueue, WorkflowIDReusePolicy: reuse, RequestID: "ce-" + key},
				t.WorkflowType, input)
			return err
		})
		if errors.Is(err, client.ErrAlreadyExists) {
			// The id's run is closed and may not start again: for a
			// derived id, this very event started it before.
			return out, nil
		}
		if err != nil {
			return out, classify(err)
		}
		out.Run, out.Created = run.Run, run.Created
		return out, nil
	}
}

// permanent reports errors that the same event will always get.
func permanent(err error) bool {
	for _, e := range []error{client.ErrUnknownWorkflowType, client.ErrInvalidInput, client.ErrPayloadTooLarge,
		client.ErrInvalidArgument, client.ErrNotFound, client.ErrNotRunning, client.ErrAlreadyExists} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrUnknownWorkflowType):
		return reject(CodeUnknownWorkflow, "%v", err)
	case errors.Is(err, client.ErrInvalidInput), errors.Is(err, client.ErrInvalidArgument):
		return reject(CodeBadData, "%v", err)
	case errors.Is(err, client.ErrPayloadTooLarge):
		return reject(CodeTooLarge, "%v", err)
	case errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrNotRunning):
		return reject(CodeNotRunning, "%v", err)
	}
	return err
}

// retry runs op until it succeeds, fails permanently, or the retries are
// spent: a server restart or leader election must not lose an event.
func (in *Ingress) retry(ctx context.Context, op func() error) error {
	delay := in.opts.retryDelay
	var err error
	for i := 0; ; i++ {
		err = op()
		if err == nil || permanent(err) || i >= in.opts.retries || ctx.Err() != nil {
			return err
		}
		in.log.Warn("processing an event failed; retrying", "error", err, "attempt", i+1)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return err
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// Serve subscribes to cairn.<ns>.events.> (in the ingress's queue group)
// and processes events until ctx ends. Each event is answered on its reply
// subject, if it has one: the Accepted JSON, or a problem JSON with a
// Cairn-Reject-Code header. Every rejected event is also copied to
// cairn.<ns>.events.rejected with the reason in headers.
func (in *Ingress) Serve(ctx context.Context) error {
	n := in.opts.workers
	queues := make([]chan *nats.Msg, n)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan *nats.Msg, workerQueue)
		wg.Add(1)
		go func(q chan *nats.Msg) {
			defer wg.Done()
			for msg := range q {
				in.handleNATS(ctx, msg)
			}
		}(queues[i])
	}
	rejected := RejectedSubject(in.ns)
	sub, err := in.nc.QueueSubscribe(EventsSubject(in.ns, ">"), in.opts.queueGroup, func(msg *nats.Msg) {
		if msg.Subject == rejected {
			return // our own copies
		}
		h := fnv.New32a()
		h.Write([]byte(msg.Subject))
		queues[int(h.Sum32()%uint32(n))] <- msg
	})
	if err != nil {
		for _, q := range queues {
			close(q)
		}
		return fmt.Errorf("events: subscribe: %w", err)
	}
	// A full worker queue blocks this callback, so events wait in the
	// client's pending buffer; bounded, so that a flood costs dropped
	// events (counted, logged) rather than unbounded memory. See limits.go.
	if err := sub.SetPendingLimits(in.opts.pendingMsgs, in.opts.pendingBytes); err != nil {
		_ = sub.Unsubscribe()
		for _, q := range queues {
			close(q)
		}
		return fmt.Errorf("events: pending limits: %w", err)
	}
	// Wait for the server to have the subscription; if it cannot be
	// reached now, the client re-sends it on reconnect anyway.
	_ = in.nc.FlushTimeout(10 * time.Second)
	in.readyOnce.Do(func() { close(in.ready) })
	in.log.Info("listening for CloudEvents", "subject", EventsSubject(in.ns, ">"), "queue_group", in.opts.queueGroup,
		"pending_limit_msgs", in.opts.pendingMsgs, "pending_limit_bytes", in.opts.pendingBytes)
	dc := &dropCounter{total: &in.dropped}
	tick := time.NewTicker(droppedCheck)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			in.checkDropped(sub, dc)
		}
	}
	tick.Stop()
	in.checkDropped(sub, dc)
	// Process what was received before stopping.
	_ = sub.Drain()
	for deadline := time.Now().Add(30 * time.Second); sub.IsValid() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	_ = sub.Unsubscribe()
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	return nil
}

func (in *Ingress) handleNATS(ctx context.Context, msg *nats.Msg) {
	// Processing outlives a shutdown request for the events already
	// received, within a bound.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	acc, err := in.processNATS(pctx, msg)
	if err != nil {
		var rej *Rejection
		if !errors.As(err, &rej) {
			rej = &Rejection{Code: CodeInternal, Reason: err.Error()}
		}
		in.rejectNATS(msg, rej)
		return
	}
	if msg.Reply != "" {
		b, _ := json.Marshal(acc)
		_ = in.nc.PublishMsg(&nats.Msg{Subject: msg.Reply, Header: nats.Header{"Content-Type": []string{"application/json"}}, Data: b})
	}
}

func (in *Ingress) processNATS(ctx context.Context, msg *nats.Msg) (*Accepted, error) {
	if size := len(msg.Data) + headerSize(msg.Header); size > in.opts.maxEventSize {
		return nil, reject(CodeTooLarge, "the event is %d bytes, the limit is %d", size, in.opts.maxEventSize)
	}
	ev, err := EventFromNATS(ctx, msg)
	if err != nil {
		return nil, reject(CodeInvalid, "not a valid CloudEvent (binary mode needs ce-specversion, ce-id, ce-source and ce-type headers; structured mode a JSON event): %v", err)
	}
	return in.Process(ctx, ev)
}

func headerSize(h nats.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// rejectNATS answers the sender (if it asked) and copies the event to the
// rejected subject.
func (in *Ingress) rejectNATS(msg *nats.Msg, rej *Rejection) {
	in.log.Info("event rejected", "subject", msg.Subject, "code", rej.Code, "reason", rej.Reason)
	if msg.Reply != "" {
		b, _ := json.Marshal(problemOf(rej, 0))
		h := nats.Header{}
		h.Set("Content-Type", "application/problem+json")
		h.Set(HeaderRejectCode, rej.Code)
		h.Set(HeaderRejectReason, headerSafe(rej.Reason))
		_ = in.nc.PublishMsg(&nats.Msg{Subject: msg.Reply, Header: h, Data: b})
	}
	in.publishRejected(msg.Subject, msg.Header, msg.Data, rej)
}

// publishRejected publishes a copy of a rejected event, headers and body
// as received, with the reason.
func (in *Ingress) publishRejected(subject string, header nats.Header, data []byte, rej *Rejection) {
	h := nats.Header{}
	for k, vs := range header {
		h[k] = append([]string(nil), vs...)
	}
	h.Set(HeaderRejectCode, rej.Code)
	h.Set(HeaderRejectReason, headerSafe(rej.Reason))
	if subject != "" {
		h.Set(HeaderOriginalSubject, subject)
	}
	if max := int(in.nc.MaxPayload()) - headerSize(h) - 1024; len(data) > max && max > 0 {
		// An oversize event cannot be copied whole; the reason says so.
		data = data[:max]
		h.Set("Cairn-Truncated", "true")
	}
	if err := in.nc.PublishMsg(&nats.Msg{Subject: RejectedSubject(in.ns), Header: h, Data: data}); err != nil {
		in.log.Error("cannot publish a rejected event", "error", err, "code", rej.Code, "reason", rej.Reason)
	}
}

// headerSafe makes s a valid header value: no CR or LF, bounded length.
func headerSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	if len(b) > 1024 {
		b = b[:1024]
	}
	return string(b)
}
