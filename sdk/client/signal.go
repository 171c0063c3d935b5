package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
)

// Signal sends the signal name with payload to a running workflow (its
// current run if run is empty). The workflow receives it with
// workflow.ReceiveSignal; signals sent before it waits are buffered in
// order. It returns once the signal is recorded in the run's history.
func (c *Client) Signal(ctx context.Context, id, run, name string, payload any) error {
	raw, err := c.encodeSignal(name, payload)
	if err != nil {
		return err
	}
	return c.store.Signal(ctx, id, run, name, nuid.Next(), raw)
}

// SignalRaw sends a signal with an already encoded (JSON) payload. signalID
// de-duplicates: sending the same id again (a re-delivered message, a
// retried call) records the signal once. Empty means a fresh id.
func (c *Client) SignalRaw(ctx context.Context, id, run, name string, payload []byte, signalID string) error {
	if err := c.checkSignal(name, payload); err != nil {
		return err
	}
	if signalID == "" {
		signalID = nuid.Next()
	}
	return c.store.Signal(ctx, id, run, name, signalID, payload)
}

// SignalWithStart sends a signal to the workflow, starting it first if it
// is not running. A new run is created with the signal already in its
// start batch, so it can never run without it.
func (c *Client) SignalWithStart(ctx context.Context, opts StartOptions, workflow any, input any, name string, payload any) (*WorkflowRun, error) {
	raw, err := c.encodeSignal(name, payload)
	if err != nil {
		return nil, err
	}
	wfName, err := workflowName(workflow)
	if err != nil {
		return nil, err
	}
	in, err := c.opts.dc.ToPayload(input)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	sig := &history.SignalReceived{Name: name, Payload: raw, ID: nuid.Next()}
	for range 5 {
		run, err := c.startRaw(ctx, opts, wfName, in, sig)
		if err != nil {
			return nil, err
		}
		if run.Created {
			return run, nil
		}
		err = c.store.Signal(ctx, run.ID, run.Run, name, sig.ID, raw)
		if !errors.Is(err, store.ErrNotRunning) && !errors.Is(err, store.ErrNotFound) {
			return run, err
		}
		// The run closed in between: start a new one with the event.
	}
	return nil, fmt.Errorf("signal-with-start %q: the workflow keeps closing", opts.ID)
}

func (c *Client) encodeSignal(name string, payload any) (json.RawMessage, error) {
	raw, err := c.opts.dc.ToPayload(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: signal payload: %w", ErrInvalidInput, err)
	}
	return raw, c.checkSignal(name, raw)
}

func (c *Client) checkSignal(name string, payload []byte) error {
	if name == "" {
		return fmt.Errorf("%w: empty signal name", ErrInvalidArgument)
	}
	if !utf8.ValidString(name) {
		// The engine refuses it: history could not store it as it is.
		return fmt.Errorf("%w: signal name %q is not valid UTF-8", ErrInvalidArgument, name)
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return fmt.Errorf("%w: signal payload is not valid JSON", ErrInvalidInput)
	}
	if len(payload) > c.opts.maxPayload {
		return fmt.Errorf("%w: signal payload is %d bytes, the limit is %d", ErrPayloadTooLarge, len(payload), c.opts.maxPayload)
	}
	return nil
}
