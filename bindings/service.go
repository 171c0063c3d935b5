// Package bindings serves activity types with existing NATS request/reply
// services, so a service (for example one written with nats.go's micro
// package, in any language) becomes an activity without changes.
//
// A service binding is an ordinary activity runner (activities.Runner):
// it consumes the activity type's task subject, sends the task's input as a
// NATS request to the service subject with the attempt's start-to-close
// timeout, and publishes the reply as the activity's result. No responders,
// a timeout and an error reply become failures of the attempt, so the
// activity's retry policy applies as for any activity. docs/protocol.md
// (section "Service bindings") specifies the mapping.
package bindings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/streams"
)

// Failure types of a service binding.
const (
	// FailureNoResponders: no service instance listens on the subject.
	// Retryable: the service may be restarting.
	FailureNoResponders = "cairn.NoResponders"
	// FailureServiceError: the service replied with an error (the
	// Nats-Service-Error header of the micro package). Retryable unless
	// its code is a 4xx other than 408 and 429, or the reply carries
	// Cairn-Non-Retryable: true.
	FailureServiceError = "cairn.ServiceError"
	// FailureRequest: the request could not be sent.
	FailureRequest = "cairn.RequestFailed"
	// FailureDecode: the task's input could not be decoded, or the reply
	// encoded, with the binding's DataConverter (WithDataConverter): a
	// missing or wrong key. Not retryable.
	FailureDecode = "cairn.PayloadCodec"
)

// Headers of a service reply (micro's error headers and cairn's own).
const (
	HeaderServiceError     = "Nats-Service-Error"
	HeaderServiceErrorCode = "Nats-Service-Error-Code"
	// HeaderErrorType lets a service choose the failure type workflows
	// and retry policies match on.
	HeaderErrorType = "Cairn-Error-Type"
	// HeaderNonRetryable: "true" stops retries.
	HeaderNonRetryable = "Cairn-Non-Retryable"
)

// DefaultTimeout bounds a request of an activity without a start-to-close
// timeout.
const DefaultTimeout = 30 * time.Second

// Option configures a service binding.
type Option func(*options)

type options struct {
	timeout time.Duration
	dc      converter.DataConverter
}

// WithTimeout sets the request timeout used when the task has no
// start-to-close timeout (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithDataConverter decodes the task's input with dc before sending it to
// the service, and encodes the service's reply with dc as the result. With
// the namespace's encrypting converter the service sees and answers clear
// JSON, as without encryption, while history holds only ciphertext; the
// payloads are in clear on the request and reply subjects, so protect
// those with NATS permissions (or TLS to the server). By default the input
// is sent and the reply recorded as they are.
func WithDataConverter(dc converter.DataConverter) Option {
	return func(o *options) { o.dc = dc }
}

// ServiceHandler returns an activity handler that calls the request/reply
// service on subject. Register it on a worker with
// RegisterActivityHandler(activityType, ServiceHandler(nc, subject)), or
// serve it alone with NewServiceRunner.
//
// The request carries the task's input as body and the task's identifying
// headers (Cairn-Workflow-Id, Cairn-Run, Cairn-Activity-Id,
// Cairn-Activity-Type, Cairn-Attempt, Cairn-Deadline, traceparent), so a
// service can use <workflow id>/<activity id> as an idempotency key. A
// reply body that is JSON is the result as is; other UTF-8 text becomes a
// JSON string.
func ServiceHandler(nc *nats.Conn, subject string, opts ...Option) activities.Handler {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return func(ctx context.Context, t *activities.Task) ([]byte, error) {
		// The runner's context already ends at the start-to-close (or
		// schedule-to-close) deadline; without one, bound the request.
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, o.timeout)
			defer cancel()
		}
		req := nats.NewMsg(subject)
		req.Data = t.Input
		if o.dc != nil {
			var plain json.RawMessage
			if err := o.dc.FromPayload(t.Input, &plain); err != nil {
				// The same key set will not open it on another attempt.
				return nil, failure.New(fmt.Sprintf("decode the input for %q: %v", subject, err),
					FailureDecode, failure.WithNonRetryable())
			}
			req.Data = plain
		}
		h := req.Header
		h.Set(activities.HeaderWorkflowID, t.WorkflowID)
		h.Set(activities.HeaderRun, t.Run)
		h.Set(activities.HeaderWorkflowType, t.WorkflowType)
		h.Set(activities.HeaderActivityID, t.ActivityID)
		h.Set(activities.HeaderActivityType, t.ActivityType)
		h.Set(activities.HeaderAttempt, strconv.Itoa(t.Attempt))
		if !t.Deadline.IsZero() {
			h.Set(activities.HeaderDeadline, t.Deadline.UTC().Format(time.RFC3339Nano))
		}
		if t.TraceParent != "" {
			h.Set(activities.HeaderTraceParent, t.TraceParent)
		}
		if t.TraceState != "" {
			h.Set(activities.HeaderTraceState, t.TraceState)
		}
		reply, err := nc.RequestMsgWithContext(ctx, req)
		switch {
		case err == nil:
		case errors.Is(err, nats.ErrNoResponders):
			return nil, failure.New(fmt.Sprintf("no service listens on %q", subject), FailureNoResponders)
		case ctx.Err() != nil:
			// The runner reports the timeout (start-to-close, heartbeat
			// or schedule-to-close) from its own context.
			return nil, ctx.Err()
		default:
			return nil, failure.New(fmt.Sprintf("request to %q: %v", subject, err), FailureRequest)
		}
		if msg := reply.Header.Get(HeaderServiceError); msg != "" || reply.Header.Get(HeaderServiceErrorCode) != "" {
			return nil, serviceError(subject, reply)
		}
		res, err := resultOf(subject, reply.Data)
		if err != nil || o.dc == nil {
			return res, err
		}
		if res, err = o.dc.ToPayload(json.RawMessage(res)); err != nil {
			return nil, failure.New(fmt.Sprintf("encode the reply of %q: %v", subject, err), FailureDecode, failure.WithNonRetryable())
		}
		return res, nil
	}
}

func serviceError(subject string, reply *nats.Msg) error {
	msg := reply.Header.Get(HeaderServiceError)
	code := reply.Header.Get(HeaderServiceErrorCode)
	typ := reply.Header.Get(HeaderErrorType)
	if typ == "" {
		typ = FailureServiceError
	}
	if msg == "" {
		msg = "error " + code
	}
	details := map[string]any{"subject": subject}
	if code != "" {
		details["code"] = code
	}
	if len(reply.Data) > 0 {
		if json.Valid(reply.Data) {
			details["body"] = json.RawMessage(reply.Data)
		} else if utf8.Valid(reply.Data) {
			details["body"] = string(reply.Data)
		}
	}
	opts := []failure.Option{failure.WithDetails(details)}
	if nonRetryable(code) || strings.EqualFold(reply.Header.Get(HeaderNonRetryable), "true") {
		opts = append(opts, failure.WithNonRetryable())
	}
	return failure.New(fmt.Sprintf("service %q: %s", subject, msg), typ, opts...)
}

// nonRetryable: a client error (4xx) will fail again, except request
// timeout (408) and too many requests (429).
func nonRetryable(code string) bool {
	n, err := strconv.Atoi(code)
	return err == nil && n >= 400 && n < 500 && n != 408 && n != 429
}

func resultOf(subject string, data []byte) ([]byte, error) {
	trimmed := strings.TrimSpace(string(data))
	switch {
	case trimmed == "":
		return []byte("null"), nil
	case json.Valid(data):
		return data, nil
	case utf8.Valid(data):
		return json.Marshal(string(data))
	}
	return nil, failure.New(fmt.Sprintf("service %q replied %d bytes that are neither JSON nor UTF-8 text", subject, len(data)),
		activities.FailureInvalidOutput, failure.WithNonRetryable())
}

// NewServiceRunner returns a runner serving activityType on queue with the
// service on subject. Run it like any activities.Runner.
func NewServiceRunner(nc *nats.Conn, names streams.Names, queue, activityType, subject string, opts []Option, runnerOpts ...activities.RunnerOption) (*activities.Runner, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return activities.NewRunner(js, names, queue, activityType, ServiceHandler(nc, subject, opts...), runnerOpts...), nil
}
