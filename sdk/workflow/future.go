package workflow

import (
	"encoding/json"

	"github.com/cairnhq/cairn/internal/coro"
	"github.com/cairnhq/cairn/internal/wf"
)

// Future is the pending result of an activity, timer or other asynchronous
// operation. Get blocks the calling workflow coroutine (never the worker).
type Future[T any] struct {
	f   *coro.Future
	ctx Context
}

func newFuture[T any](ctx Context, f *coro.Future) Future[T] { return Future[T]{f: f, ctx: ctx} }

// IsReady reports whether Get would return without blocking.
func (f Future[T]) IsReady() bool { return f.f.IsReady() }

// Get waits for the result. Activity failures come back as
// *failure.ActivityError wrapping the cause; cancellations as
// *failure.CanceledError.
func (f Future[T]) Get(ctx Context) (T, error) {
	v, err := f.f.Get(wf.Exec(ctx).Coroutine())
	return decode[T](f.ctx, v, err)
}

func decode[T any](ctx Context, v any, err error) (T, error) {
	var out T
	if err != nil {
		return out, wf.Err(err)
	}
	raw, _ := v.(json.RawMessage)
	if len(raw) == 0 {
		return out, nil
	}
	if err := wf.Converter(ctx).FromPayload(raw, &out); err != nil {
		return out, err
	}
	return out, nil
}

// NewFuture returns a future and the function that settles it, for workflow
// code that completes a future from another coroutine.
func NewFuture[T any](ctx Context) (Future[T], func(v T, err error)) {
	f := coro.NewFuture()
	return newFuture[T](ctx, f), func(v T, err error) {
		if err != nil {
			f.Set(nil, err)
			return
		}
		raw, e := wf.Converter(ctx).ToPayload(v)
		if e != nil {
			f.Set(nil, e)
			return
		}
		f.Set(json.RawMessage(raw), nil)
	}
}
