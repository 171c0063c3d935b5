package failure

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cairnhq/cairn/history"
)

// ApplicationError is an error raised by user code that callers are expected
// to match on Type, in this process or another one.
//
// An empty Type serializes as history.FailureGeneric. Any error that is not
// one of this package's types arrives on the other side as an
// ApplicationError of type history.FailureGeneric.
type ApplicationError struct {
	// Type classifies the error; retry policies and callers match on it.
	Type string
	// Message is the human-readable text.
	Message string
	// NonRetryable stops retries whatever the retry policy says.
	NonRetryable bool
	// Details is application data attached to the error, as JSON.
	Details json.RawMessage
	// Cause is the underlying error; it is serialized as the failure's cause.
	Cause error
}

// Option configures an ApplicationError created by New.
type Option func(*ApplicationError)

// WithNonRetryable marks the error as non-retryable: the engine will not
// schedule another attempt, whatever the retry policy says.
func WithNonRetryable() Option {
	return func(e *ApplicationError) { e.NonRetryable = true }
}

// WithDetails attaches v, encoded as JSON, to the error. A json.RawMessage is
// used as is if it is valid JSON. Options cannot fail, so a value that cannot
// be encoded is replaced by a JSON string describing the encoding error
// rather than being dropped silently.
func WithDetails(v any) Option {
	return func(e *ApplicationError) { e.Details = encodeDetails(v) }
}

// WithCause records the underlying error. It is serialized as the failure's
// cause and reachable through errors.Unwrap.
func WithCause(err error) Option {
	return func(e *ApplicationError) { e.Cause = err }
}

// New returns an ApplicationError with message msg and type typ, message
// first like Temporal's NewApplicationError. typ is what callers and retry
// policies (RetryPolicy.NonRetryableErrorTypes) match on; an empty typ
// serializes as history.FailureGeneric. Options apply in order.
func New(msg, typ string, opts ...Option) *ApplicationError {
	e := &ApplicationError{Type: typ, Message: msg}
	for _, o := range opts {
		if o != nil {
			o(e)
		}
	}
	return e
}

// NonRetryable is shorthand for New(msg, typ, WithNonRetryable()): an
// error that fails the activity (or callback) at once, whatever the retry
// policy says.
func NonRetryable(msg, typ string) *ApplicationError {
	return New(msg, typ, WithNonRetryable())
}

// Error includes the type unless it is the generic one, which would only be
// noise in front of an ordinary error message.
func (e *ApplicationError) Error() string {
	msg := e.Message
	if e.Type != "" && e.Type != history.FailureGeneric {
		msg = e.Type + ": " + msg
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *ApplicationError) Unwrap() error { return e.Cause }

// DecodeDetails decodes the attached details into ptr. It leaves ptr
// untouched when the error carries no details.
func (e *ApplicationError) DecodeDetails(ptr any) error {
	if len(bytes.TrimSpace(e.Details)) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Details, ptr); err != nil {
		return fmt.Errorf("failure: decode details of %s: %w", e.Type, err)
	}
	return nil
}

// Failure implements history.Failer.
func (e *ApplicationError) Failure() *history.Failure {
	typ := e.Type
	if typ == "" {
		typ = history.FailureGeneric
	}
	return &history.Failure{
		Type:         typ,
		Message:      e.Message,
		NonRetryable: e.NonRetryable,
		Details:      cloneRaw(e.Details),
		Cause:        history.FailureOf(e.Cause),
	}
}

func encodeDetails(v any) json.RawMessage {
	if raw, ok := v.(json.RawMessage); ok && json.Valid(raw) {
		return cloneRaw(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("cairn: details of type %T are not JSON-encodable: %v", v, err))
	}
	return b
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return append(json.RawMessage(nil), r...)
}
