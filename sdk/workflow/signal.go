package workflow

import (
	"time"

	"github.com/cairnhq/cairn/internal/wf"
	"github.com/cairnhq/cairn/sdk/failure"
)

// TimeoutSignal is the TimeoutError kind of ReceiveSignalTimeout.
const TimeoutSignal = "signal"

// ReceiveSignal blocks until the signal name is sent to the run (by
// client.Signal, client.SignalWithStart or `cairn workflow signal`) and
// decodes its payload into T. Signals sent before the workflow waits are
// buffered, in order, and never lost; each is received once. It fails only
// when ctx is canceled, or when the payload cannot be decoded into T.
func ReceiveSignal[T any](ctx Context, name string) (T, error) {
	return receiveSignal[T](ctx, name, 0)
}

// ReceiveSignalTimeout is ReceiveSignal with a durable timeout: if no
// signal name comes within timeout it returns a *failure.TimeoutError of
// kind TimeoutSignal (at once, taking nothing, when timeout <= 0). The
// timeout survives crashes and restarts like any timer. A signal already
// buffered is taken at once, and no timer is recorded (runs that started
// before this rule keep their recorded timer: the change is marked in
// history by a version marker, cairn.signal-wait-skips-timer).
func ReceiveSignalTimeout[T any](ctx Context, name string, timeout time.Duration) (T, error) {
	if timeout <= 0 {
		var zero T
		return zero, &failure.TimeoutError{Kind: TimeoutSignal, Message: "signal " + name + ": no time to wait"}
	}
	return receiveSignal[T](ctx, name, timeout)
}

// PendingSignals returns how many signals named name are buffered, sent
// but not yet received by ReceiveSignal.
func PendingSignals(ctx Context, name string) int { return wf.Exec(ctx).PendingSignals(name) }

func receiveSignal[T any](ctx Context, name string, timeout time.Duration) (T, error) {
	var out T
	raw, ok, f := wf.Exec(ctx).WaitSignal(name, timeout)
	if f != nil {
		return out, wf.Err(f)
	}
	if !ok {
		return out, &failure.TimeoutError{Kind: TimeoutSignal, Message: "no signal " + name + " within " + timeout.String()}
	}
	return decodeSignal[T](ctx, raw)
}
