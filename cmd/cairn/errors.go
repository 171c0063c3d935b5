package main

import (
	"context"
	"errors"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
)

// cliError is an error whose message is already written for the user; the
// wrapped error stays available to errors.Is.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// describeError turns an error into one line for stderr. Typed errors of
// the client get a sentence of their own; the client's messages already
// name the workflow, type or limit involved.
func describeError(err error) string {
	var ce *cliError
	var we *failure.WorkflowError
	switch {
	case errors.As(err, &ce):
		return oneLine(ce.msg)
	case errors.As(err, &we):
		// The run closed without a result: failed, canceled or terminated.
		return oneLine(err.Error())
	case errors.Is(err, client.ErrNotFound),
		errors.Is(err, client.ErrNotRunning),
		errors.Is(err, client.ErrAlreadyExists),
		errors.Is(err, client.ErrUnknownWorkflowType),
		errors.Is(err, client.ErrInvalidInput),
		errors.Is(err, client.ErrPayloadTooLarge),
		errors.Is(err, client.ErrInvalidArgument):
		return oneLine(err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out talking to the server: " + oneLine(err.Error())
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse):
		return "lost the server: " + oneLine(err.Error())
	}
	return oneLine(err.Error())
}

// oneLine keeps multi-line errors (errors.Join) on a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
