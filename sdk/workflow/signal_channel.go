package workflow

import (
	"github.com/cairnhq/cairn/internal/wf"
)

// SignalChannel is the signals named Name of the run, as a channel: the
// same buffered signals ReceiveSignal takes, in the order they arrived,
// each taken once, whichever way it is taken. Temporal users know it as
// GetSignalChannel; add it to a Selector with AddSignal to wait on several
// signals, timers and futures at once.
type SignalChannel[T any] struct {
	ctx  Context
	name string
}

// GetSignalChannel returns the channel of the signals named name. It
// records nothing; signals sent before it is called are buffered and
// received from it.
func GetSignalChannel[T any](ctx Context, name string) SignalChannel[T] {
	return SignalChannel[T]{ctx: ctx, name: name}
}

// Name returns the signal name.
func (c SignalChannel[T]) Name() string { return c.name }

// Receive blocks until a signal is buffered and takes it (ReceiveSignal).
// It fails only when ctx is canceled or the payload cannot be decoded
// into T.
func (c SignalChannel[T]) Receive(ctx Context) (T, error) { return ReceiveSignal[T](ctx, c.name) }

// ReceiveAsync takes a buffered signal without blocking; ok is false when
// none is buffered. err is a payload that cannot be decoded into T (the
// signal is taken all the same).
func (c SignalChannel[T]) ReceiveAsync() (v T, ok bool, err error) {
	raw, ok := wf.Exec(c.ctx).TakeSignal(c.name)
	if !ok {
		return v, false, nil
	}
	v, err = decodeSignal[T](c.ctx, raw)
	return v, true, err
}

// Len returns how many signals are buffered (PendingSignals).
func (c SignalChannel[T]) Len() int { return wf.Exec(c.ctx).PendingSignals(c.name) }

// AddSignal adds a case that is ready while a signal of c is buffered: it
// takes the oldest and passes it to fn (err: its payload does not decode
// into T). Like a channel case it can fire any number of times.
func AddSignal[T any](s *Selector, c SignalChannel[T], fn func(v T, err error)) *Selector {
	x := wf.Exec(c.ctx)
	s.s.AddCondition(func() bool { return x.HasSignal(c.name) }, func() {
		raw, _ := x.TakeSignal(c.name)
		v, err := decodeSignal[T](c.ctx, raw)
		fn(v, err)
	})
	return s
}

func decodeSignal[T any](ctx Context, raw []byte) (T, error) {
	var out T
	if len(raw) > 0 {
		if err := wf.Converter(ctx).FromPayload(raw, &out); err != nil {
			return out, err
		}
	}
	return out, nil
}
