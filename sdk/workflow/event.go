package workflow

import (
	"time"

	"github.com/cairnhq/cairn/internal/wf"
	"github.com/cairnhq/cairn/sdk/failure"
)

// TimeoutEvent is the TimeoutError kind of WaitEventTimeout.
const TimeoutEvent = "event"

// WaitEvent blocks until the external event name is raised on the run (by
// client.Signal, `cairn workflow signal` or signal-with-start) and decodes
// its payload. Events raised before the workflow waits are buffered, in
// order, and never lost; each is taken once. It fails only when ctx is
// canceled.
func WaitEvent[T any](ctx Context, name string) (T, error) {
	return waitEvent[T](ctx, name, 0)
}

// WaitEventTimeout is WaitEvent with a durable timeout: if no event comes
// within timeout it returns a *failure.TimeoutError of kind TimeoutEvent.
// The timeout survives crashes and restarts like any timer.
func WaitEventTimeout[T any](ctx Context, name string, timeout time.Duration) (T, error) {
	if timeout <= 0 {
		var zero T
		return zero, &failure.TimeoutError{Kind: TimeoutEvent, Message: "event " + name + ": no time to wait"}
	}
	return waitEvent[T](ctx, name, timeout)
}

// PendingEvents returns how many events named name are buffered, not yet
// taken by WaitEvent.
func PendingEvents(ctx Context, name string) int { return wf.Exec(ctx).PendingSignals(name) }

func waitEvent[T any](ctx Context, name string, timeout time.Duration) (T, error) {
	var out T
	raw, ok, f := wf.Exec(ctx).WaitSignal(name, timeout)
	if f != nil {
		return out, wf.Err(f)
	}
	if !ok {
		return out, &failure.TimeoutError{Kind: TimeoutEvent, Message: "no event " + name + " within " + timeout.String()}
	}
	if len(raw) > 0 {
		if err := wf.Converter(ctx).FromPayload(raw, &out); err != nil {
			return out, err
		}
	}
	return out, nil
}
