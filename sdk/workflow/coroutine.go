package workflow

import (
	"github.com/cairnhq/cairn/internal/coro"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/wf"
)

// Go runs fn in a new workflow coroutine: the deterministic counterpart of
// a go statement. Coroutines run one at a time and switch only where they
// block on workflow primitives, so replay interleaves them identically.
func Go(ctx Context, fn func(ctx Context)) {
	wf.Exec(ctx).Go("workflow.Go", func(*executor.Ctx) { fn(ctx) })
}

// Await blocks until cond returns true. cond is re-evaluated whenever other
// workflow coroutines have run; it must read only workflow state.
func Await(ctx Context, cond func() bool) error {
	wf.Exec(ctx).Coroutine().Block(func() bool { return cond() || ctx.Err() != nil })
	return ctx.Err()
}

// Channel is a deterministic channel for workflow coroutines.
type Channel[T any] struct{ c *coro.Channel }

// ReceiveChannel is the receive side of a Channel.
type ReceiveChannel[T any] struct{ c *coro.Channel }

// NewChannel returns an unbuffered channel.
func NewChannel[T any](ctx Context) Channel[T] { return Channel[T]{c: coro.NewChannel(0)} }

// NewBufferedChannel returns a channel with capacity n.
func NewBufferedChannel[T any](ctx Context, n int) Channel[T] {
	return Channel[T]{c: coro.NewChannel(n)}
}

// Send blocks until v is taken (or buffered).
func (c Channel[T]) Send(ctx Context, v T) { c.c.Send(wf.Exec(ctx).Coroutine(), v) }

// Receive blocks for the next value; more is false once the channel is
// closed and drained.
func (c Channel[T]) Receive(ctx Context) (v T, more bool) { return receive[T](ctx, c.c) }

// Close closes the channel.
func (c Channel[T]) Close() { c.c.Close() }

// Len returns the number of buffered values.
func (c Channel[T]) Len() int { return c.c.Len() }

// ReceiveOnly returns the receive side of c.
func (c Channel[T]) ReceiveOnly() ReceiveChannel[T] { return ReceiveChannel[T](c) }

// Receive blocks for the next value.
func (c ReceiveChannel[T]) Receive(ctx Context) (v T, more bool) { return receive[T](ctx, c.c) }

func receive[T any](ctx Context, c *coro.Channel) (T, bool) {
	v, ok := c.Receive(wf.Exec(ctx).Coroutine())
	t, _ := v.(T)
	return t, ok
}

// Selector waits on several futures and channels at once: the deterministic
// counterpart of a select statement. Among ready cases the one added first
// wins; a future case fires at most once per Selector.
type Selector struct{ s *coro.Selector }

// NewSelector returns an empty Selector.
func NewSelector(ctx Context) *Selector { return &Selector{s: coro.NewSelector()} }

// AddFuture adds a case that runs fn when f is ready.
func AddFuture[T any](s *Selector, f Future[T], fn func(f Future[T])) *Selector {
	s.s.AddFuture(f.f, func(*coro.Future) { fn(f) })
	return s
}

// AddReceive adds a case that receives from c and passes the value to fn.
func AddReceive[T any](s *Selector, c ReceiveChannel[T], fn func(v T, more bool)) *Selector {
	s.s.AddReceive(c.c, func(v any, ok bool) {
		t, _ := v.(T)
		fn(t, ok)
	})
	return s
}

// AddDefault adds a case that runs when no other case is ready.
func (s *Selector) AddDefault(fn func()) *Selector {
	s.s.AddDefault(fn)
	return s
}

// Select blocks until a case is ready and runs its function.
func (s *Selector) Select(ctx Context) { s.s.Select(wf.Exec(ctx).Coroutine()) }

// HasPending reports whether Select would run a non-default case without
// blocking.
func (s *Selector) HasPending() bool { return s.s.HasPending() }
