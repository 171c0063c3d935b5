package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/internal/optcheck"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/telemetry"
)

// Client starts, inspects and controls the workflows of one namespace. It
// is safe for concurrent use; make one per process and namespace.
type Client struct {
	nc        *nats.Conn
	js        jetstream.JetStream
	names     streams.Names
	opts      options
	store     store.Backend
	summaries *store.Summaries
	registry  *store.Registry
	tel       *telemetry.Telemetry

	mu    sync.Mutex
	known map[string]bool
}

// New returns a Client over an open NATS connection. Unless
// WithoutProvisioning is given it creates the namespace's streams and
// buckets if they are missing (idempotent). An invalid option fails it with
// an error wrapping ErrInvalidOption, before anything is created.
func New(ctx context.Context, nc *nats.Conn, opts ...Option) (*Client, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrInvalidArgument)
	}
	o := options{namespace: "default", dc: converter.JSON(), provision: true, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
	}
	if o.maxPayload <= 0 {
		// Leave room for headers and the event envelope around the input.
		o.maxPayload = int(nc.MaxPayload()) - 16*1024
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if o.provision {
		var provision []streams.Option
		if o.replicas > 0 {
			provision = append(provision, streams.WithReplicas(o.replicas))
		}
		if err := streams.Ensure(ctx, js, o.namespace, provision...); err != nil {
			return nil, err
		}
	}
	names := streams.NewNames(o.namespace)
	var storeOpts []store.Option
	if o.viaEngine {
		storeOpts = append(storeOpts, store.WithoutHistoryWrites())
	}
	c := &Client{nc: nc, js: js, names: names, opts: o, store: store.New(nc, js, names, storeOpts...), known: map[string]bool{},
		tel: telemetry.New(telemetry.Options{TracerProvider: o.tracerProvider, Logger: o.logger})}
	if c.summaries, err = store.NewSummaries(ctx, js, names); err != nil {
		return nil, err
	}
	if c.registry, err = store.OpenRegistry(ctx, js, names); err != nil {
		return nil, err
	}
	return c, nil
}

// Namespace returns the client's namespace.
func (c *Client) Namespace() string { return c.opts.namespace }

// StartOptions describe a run to start. The zero value is valid: a
// generated id on the "default" task queue. A field with an invalid value
// fails the start with an error wrapping ErrInvalidArgument and
// ErrInvalidOption, before anything is stored.
type StartOptions struct {
	// ID is the workflow id, unique per namespace while a run is open; any
	// UTF-8 string of at most 1024 bytes. Empty means a generated one.
	ID string
	// TaskQueue routes the run to workers (default "default"); it must
	// match [A-Za-z0-9_-]{1,64}.
	TaskQueue string
	// WorkflowIDReusePolicy decides whether an id whose last run is closed
	// may start again (default WorkflowIDReusePolicyAllowDuplicate).
	WorkflowIDReusePolicy WorkflowIDReusePolicy
	// WorkflowExecutionTimeout bounds the run: when it passes, the run is
	// closed as timed out, whatever its code does (0 = no bound; it must
	// not be negative). It is recorded with the run.
	WorkflowExecutionTimeout time.Duration
	// Memo is shown by describe.
	Memo any
	// RequestID identifies this start call for de-duplication in history.
	RequestID string
	// SearchAttributes are the run's initial attributes for list filters
	// (workflow.Keyword, workflow.Int, ...); the workflow may change them
	// with workflow.UpsertSearchAttributes.
	SearchAttributes []history.SearchAttribute
}

// WorkflowRun identifies a run and waits for its result.
type WorkflowRun struct {
	// ID is the workflow id.
	ID string
	// Run is the run id; empty in a handle from GetRun means the id's
	// current run.
	Run string
	// Created is false when the id was already running and this is that
	// run.
	Created bool
	c       *Client
}

// Start starts workflow (a workflow function, or its registered name as a
// string) with input. Starting an id that is running returns the running
// run (Created false) and stores nothing.
func (c *Client) Start(ctx context.Context, opts StartOptions, workflow any, input any) (*WorkflowRun, error) {
	name, err := workflowName(workflow)
	if err != nil {
		return nil, err
	}
	raw, err := c.opts.dc.ToPayload(input)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return c.StartRaw(ctx, opts, name, raw)
}

// StartRaw starts a workflow type by name with an already encoded input.
func (c *Client) StartRaw(ctx context.Context, opts StartOptions, workflowType string, input []byte) (*WorkflowRun, error) {
	return c.startRaw(ctx, opts, workflowType, input, nil)
}

func (c *Client) startRaw(ctx context.Context, opts StartOptions, workflowType string, input []byte, sig *history.SignalReceived) (*WorkflowRun, error) {
	if opts.TaskQueue == "" {
		opts.TaskQueue = "default"
	}
	if err := streams.ValidateQueue(opts.TaskQueue); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if opts.ID == "" {
		opts.ID = nats.NewInbox()[len(nats.InboxPrefix):]
	}
	if !utf8.ValidString(opts.ID) || len(opts.ID) > 1024 {
		return nil, fmt.Errorf("%w: workflow id must be valid UTF-8 of at most 1024 bytes", ErrInvalidArgument)
	}
	if workflowType == "" {
		return nil, fmt.Errorf("%w: empty workflow type", ErrInvalidArgument)
	}
	reuse, err := opts.WorkflowIDReusePolicy.store()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if err := optcheck.NotNegative("StartOptions.WorkflowExecutionTimeout", opts.WorkflowExecutionTimeout); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if len(input) == 0 {
		input = []byte("null")
	}
	if !json.Valid(input) {
		return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidInput)
	}
	if len(input) > c.opts.maxPayload {
		return nil, fmt.Errorf("%w: input is %d bytes, the limit is %d", ErrPayloadTooLarge, len(input), c.opts.maxPayload)
	}
	if err := c.checkType(ctx, opts.TaskQueue, workflowType); err != nil {
		return nil, err
	}
	var memo json.RawMessage
	if opts.Memo != nil {
		var err error
		if memo, err = c.opts.dc.ToPayload(opts.Memo); err != nil {
			return nil, fmt.Errorf("%w: memo: %w", ErrInvalidArgument, err)
		}
	}
	attrs, err := history.SearchAttributeMap(opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	attrs = history.ApplySearchAttributes(nil, attrs) // an Unset at start means nothing
	// The start's span continues the caller's trace; its context is recorded
	// in the start event, so the whole run joins the trace.
	ctx, span := c.tel.StartWorkflowStart(ctx, c.names.Namespace(), opts.ID, workflowType, opts.TaskQueue,
		c.names.InboxSubject(opts.TaskQueue, opts.ID))
	defer span.End()
	res, err := c.store.Start(ctx, store.StartRequest{
		WorkflowID: opts.ID, WorkflowType: workflowType, TaskQueue: opts.TaskQueue, Input: input,
		RequestID: opts.RequestID, Reuse: reuse, Memo: memo, ExecutionTimeout: opts.WorkflowExecutionTimeout,
		TraceParent: traceParent(ctx), Signal: sig, SearchAttributes: attrs,
	})
	if err != nil {
		telemetry.RecordFailure(span, startErrorType(err), err.Error())
		return nil, err
	}
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrRun.String(res.Run), attribute.Bool("cairn.workflow.created", res.Created))
	}
	if res.Created {
		// The summary is a listing index; history is already committed, so
		// a failure here only delays the listing until the worker writes it.
		if err := c.summaries.Started(ctx, &history.Summary{WorkflowID: opts.ID, WorkflowType: workflowType,
			TaskQueue: opts.TaskQueue, Run: res.Run, Status: history.StatusRunning, StartTime: res.StartTime,
			HistorySeq: res.Head.Seq, SearchAttributes: attrs}); err != nil {
			c.opts.logger.Warn("instance summary not written", "workflow_id", opts.ID, "error", err)
		}
	}
	return &WorkflowRun{ID: opts.ID, Run: res.Run, Created: res.Created, c: c}, nil
}

// startErrorType is the error.type of a failed start.
func startErrorType(err error) string {
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return "cairn.AlreadyExists"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	}
	return "_OTHER"
}

func (c *Client) checkType(ctx context.Context, queue, typ string) error {
	k := queue + "\x00" + typ
	c.mu.Lock()
	ok := c.known[k]
	c.mu.Unlock()
	if ok {
		return nil
	}
	known, err := c.registry.Known(ctx, "workflow", queue, typ)
	if err != nil {
		return err
	}
	if !known {
		return fmt.Errorf("%w: %q has never been registered by a worker on task queue %q", ErrUnknownWorkflowType, typ, queue)
	}
	c.mu.Lock()
	c.known[k] = true
	c.mu.Unlock()
	return nil
}

// workflowName derives a workflow type name from a function (its name
// without package path) or takes a string as is.
func workflowName(workflow any) (string, error) {
	switch w := workflow.(type) {
	case string:
		return w, nil
	case nil:
		return "", fmt.Errorf("%w: nil workflow", ErrInvalidArgument)
	}
	name := act.Name(workflow)
	if name == "" {
		return "", fmt.Errorf("%w: workflow must be a function or a name, got %T", ErrInvalidArgument, workflow)
	}
	return name, nil
}

// GetRun returns a handle on a run (the current one if run is empty).
func (c *Client) GetRun(id, run string) *WorkflowRun { return &WorkflowRun{ID: id, Run: run, c: c} }

// Cancel asks a running workflow to cancel; the workflow sees its context
// canceled and may clean up before it returns.
func (c *Client) Cancel(ctx context.Context, id, run, reason string) error {
	return c.store.Cancel(ctx, id, run, reason)
}

// Terminate closes a running workflow at once, without running its code.
func (c *Client) Terminate(ctx context.Context, id, run, reason string) error {
	head, err := c.store.Terminate(ctx, id, run, reason)
	if err != nil {
		return err
	}
	return c.summaries.Update(ctx, id, func(cur *history.Summary) *history.Summary {
		if cur == nil || cur.Run != head.Run || cur.HistorySeq > head.Seq {
			return nil
		}
		cur.Status, cur.HistorySeq, cur.CloseTime, cur.Parked, cur.Paused = history.StatusTerminated, head.Seq, time.Now().UTC(), nil, false
		cur.Failure = &history.Failure{Type: history.FailureTerminated, Message: reason}
		return cur
	})
}
