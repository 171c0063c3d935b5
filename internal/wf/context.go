package wf

import (
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/failure"
)

// Context is the workflow context (aliased as workflow.Context). Only this
// package implements it, so workflow code cannot pass a context.Context
// where replay needs a workflow one.
type Context interface {
	// Err returns a *failure.CanceledError once the context is canceled.
	Err() error
	// Value returns the value bound to key, as context.Context does.
	Value(key any) any

	exec() *executor.Ctx
}

type ctx struct{ x *executor.Ctx }

func (c ctx) Err() error {
	if f := c.x.Err(); f != nil {
		return failconv.FromFailure(f)
	}
	return nil
}

func (c ctx) Value(key any) any   { return c.x.Value(key) }
func (c ctx) exec() *executor.Ctx { return c.x }

// Wrap returns the Context for an executor context.
func Wrap(x *executor.Ctx) Context { return ctx{x} }

// Exec returns the executor context behind c.
func Exec(c Context) *executor.Ctx { return c.exec() }

type converterKey struct{}

// WithConverter binds the data converter of the run to its root context.
func WithConverter(x *executor.Ctx, dc converter.DataConverter) *executor.Ctx {
	return x.WithValue(converterKey{}, dc)
}

// Converter returns the data converter of the run.
func Converter(c Context) converter.DataConverter {
	if dc, ok := c.Value(converterKey{}).(converter.DataConverter); ok {
		return dc
	}
	return converter.JSON()
}

// Err converts an executor failure to the typed SDK error.
func Err(err error) error {
	switch e := err.(type) {
	case nil:
		return nil
	case *executor.ActivityFailure:
		return &failure.ActivityError{ActivityType: e.ActivityType, ActivityID: itoa(e.ID), Attempt: e.Attempt,
			RetryState: failure.RetryState(e.RetryState), Cause: failconv.FromFailure(e.Failure)}
	case *executor.ChildFailure:
		return &failure.WorkflowError{WorkflowID: e.WorkflowID, Run: e.Run, WorkflowType: e.WorkflowType,
			Cause: failconv.FromFailure(e.Failure)}
	case *history.Failure:
		return failconv.FromFailure(e)
	}
	return err
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = digits[n%10]
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
