// Package workflow is a stub of cairn's sdk/workflow for the analyzer's
// tests: only the names the tests use, with the real signatures.
package workflow

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/sdk/internal/wf"
)

type Context = wf.Context

type Future[T any] struct{}

func (f Future[T]) Get(ctx Context) (T, error) { var v T; return v, nil }

func ExecuteActivity[I, R any](ctx Context, fn func(context.Context, I) (R, error), in I) Future[R] {
	return Future[R]{}
}

func Now(ctx Context) time.Time                              { return time.Time{} }
func Sleep(ctx Context, d time.Duration) error               { return nil }
func NewTimer(ctx Context, d time.Duration) Future[struct{}] { return Future[struct{}]{} }
func Go(ctx Context, fn func(ctx Context))                   {}
func Await(ctx Context, cond func() bool) error              { return nil }
func Random(ctx Context) uint64                              { return 0 }
func UUID(ctx Context) string                                { return "" }

func Step[R any](ctx Context, name string, fn func() (R, error)) (R, error) { return fn() }
func SideEffect[R any](ctx Context, fn func() R) R                          { return fn() }

type CallbackOptions struct{}

func WaitForCallback[T any](ctx Context, name string, submit func(token string) error, opts CallbackOptions) (T, error) {
	var v T
	return v, submit("")
}

type Channel[T any] struct{}

func NewChannel[T any](ctx Context) Channel[T]            { return Channel[T]{} }
func (c Channel[T]) Send(ctx Context, v T)                {}
func (c Channel[T]) Receive(ctx Context) (v T, more bool) { return v, false }
func (c Channel[T]) Close()                               {}

type Selector struct{}

func NewSelector(ctx Context) *Selector                                         { return &Selector{} }
func AddFuture[T any](s *Selector, f Future[T], fn func(f Future[T])) *Selector { return s }
func (s *Selector) Select(ctx Context)                                          {}

func SetQueryHandler[A, R any](ctx Context, name string, fn func(args A) (R, error)) {}
