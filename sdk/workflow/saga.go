package workflow

import (
	"errors"
	"fmt"
)

// Saga records compensations as a workflow makes progress and runs them in
// reverse order when it must undo its work. Compensations are ordinary
// workflow code (usually activities), so running them is as durable as the
// rest of the workflow: a crash in the middle of compensating resumes
// compensating.
//
//	saga := workflow.NewSaga()
//	charge, err := workflow.ExecuteActivity(ctx, Charge, o).Get(ctx)
//	if err != nil { return err }
//	saga.Add(func(ctx workflow.Context) error { _, err := workflow.ExecuteActivity(ctx, Refund, charge).Get(ctx); return err })
//	...
//	if err != nil { return saga.Compensate(ctx, err) }
type Saga struct {
	steps []func(ctx Context) error
	opts  SagaOptions
}

// SagaOptions tune Compensate.
type SagaOptions struct {
	// StopOnError stops compensating at the first compensation that fails
	// (the default runs them all and reports every failure).
	StopOnError bool
}

// NewSaga returns an empty saga.
func NewSaga(opts ...SagaOptions) *Saga {
	s := &Saga{}
	if len(opts) > 0 {
		s.opts = opts[0]
	}
	return s
}

// Add registers the compensation of a step that has just succeeded.
func (s *Saga) Add(compensation func(ctx Context) error) { s.steps = append(s.steps, compensation) }

// Len returns the number of registered compensations.
func (s *Saga) Len() int { return len(s.steps) }

// Compensate runs the compensations in reverse order, in a context that is
// not canceled with the workflow (so a canceled workflow still undoes its
// work), and returns cause joined with any compensation failures. Each
// compensation runs at most once per saga.
func (s *Saga) Compensate(ctx Context, cause error) error {
	dctx := NewDisconnectedContext(ctx)
	errs := []error{cause}
	for len(s.steps) > 0 {
		last := len(s.steps) - 1
		step := s.steps[last]
		s.steps = s.steps[:last]
		if err := step(dctx); err != nil {
			errs = append(errs, fmt.Errorf("compensation %d: %w", last, err))
			if s.opts.StopOnError {
				break
			}
		}
	}
	return errors.Join(errs...)
}
