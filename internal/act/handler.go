package act

import (
	"context"
	"fmt"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/failure"
)

// FailureInvalidInput is the failure type reported when an activity's input
// cannot be decoded into its parameter type. It is non-retryable: the same
// input would fail the same way.
const FailureInvalidInput = "cairn.InvalidInput"

// Handler adapts a typed activity function to an activities.Handler: it
// decodes the task input into I with dc, calls fn, and encodes its result
// with dc. A nil dc means converter.JSON().
//
// Decoding and encoding errors are reported as non-retryable failures
// (FailureInvalidInput, activities.FailureInvalidOutput) because retrying
// cannot fix them. Errors from fn are passed through unchanged.
func Handler[I, R any](fn func(context.Context, I) (R, error), dc converter.DataConverter) activities.Handler {
	if dc == nil {
		dc = converter.JSON()
	}
	return func(ctx context.Context, t *activities.Task) ([]byte, error) {
		var in I
		if err := dc.FromPayload(t.Input, &in); err != nil {
			return nil, failure.New(fmt.Sprintf("cannot decode the input of activity %s into %T", t.ActivityType, in),
				FailureInvalidInput,
				failure.WithNonRetryable(), failure.WithCause(err))
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		b, err := dc.ToPayload(out)
		if err != nil {
			return nil, failure.New(fmt.Sprintf("cannot encode the result of activity %s (%T)", t.ActivityType, out),
				activities.FailureInvalidOutput,
				failure.WithNonRetryable(), failure.WithCause(err))
		}
		return b, nil
	}
}
