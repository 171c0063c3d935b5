package workflow

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/cairnhq/cairn/internal/optcheck"
	"github.com/cairnhq/cairn/streams"
)

// ErrInvalidOption is wrapped by the error of a call made under options
// holding an invalid value: the future of ExecuteActivity and
// ExecuteChildWorkflow fails with it (nothing is scheduled or recorded),
// and WaitForCallback, Map and Parallel return it. The message names the
// option and the value. It is the same value as client.ErrInvalidOption and
// worker.ErrInvalidOption.
var ErrInvalidOption = optcheck.ErrInvalidOption

// defaultInitialInterval is the engine's first retry interval when a
// RetryPolicy leaves InitialInterval zero.
const defaultInitialInterval = time.Second

func checkQueue(option, q string) error {
	if q == "" {
		return nil
	}
	if streams.ValidateQueue(q) != nil {
		return optcheck.Invalid(option, q, "must match [A-Za-z0-9_-]{1,64}")
	}
	return nil
}

func (o ActivityOptions) validate() error {
	if err := checkQueue("ActivityOptions.TaskQueue", o.TaskQueue); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ActivityOptions.ScheduleToCloseTimeout", o.ScheduleToCloseTimeout},
		{"ActivityOptions.ScheduleToStartTimeout", o.ScheduleToStartTimeout},
		{"ActivityOptions.StartToCloseTimeout", o.StartToCloseTimeout},
		{"ActivityOptions.HeartbeatTimeout", o.HeartbeatTimeout},
	} {
		if err := optcheck.NotNegative(d.name, d.v); err != nil {
			return err
		}
	}
	if o.RetryPolicy != nil {
		return o.RetryPolicy.validate("ActivityOptions.RetryPolicy")
	}
	return nil
}

func (p *RetryPolicy) validate(prefix string) error {
	if err := optcheck.NotNegative(prefix+".InitialInterval", p.InitialInterval); err != nil {
		return err
	}
	if err := optcheck.NotNegative(prefix+".MaximumInterval", p.MaximumInterval); err != nil {
		return err
	}
	if c := p.BackoffCoefficient; c != 0 && !(c >= 1 && !math.IsInf(c, 1)) {
		return optcheck.Invalid(prefix+".BackoffCoefficient", c, "must be at least 1 (0 means the default, 2)")
	}
	if p.MaximumAttempts < 0 {
		return optcheck.Invalid(prefix+".MaximumAttempts", p.MaximumAttempts, "must not be negative (0 means unlimited)")
	}
	initial := p.InitialInterval
	if initial == 0 {
		initial = defaultInitialInterval
	}
	if p.MaximumInterval != 0 && p.MaximumInterval < initial {
		return optcheck.Invalid(prefix+".MaximumInterval", p.MaximumInterval,
			fmt.Sprintf("must not be less than the initial interval (%s)", initial))
	}
	return nil
}

func (o ChildWorkflowOptions) validate() error {
	if !utf8.ValidString(o.WorkflowID) || len(o.WorkflowID) > 1024 {
		return optcheck.Invalid("ChildWorkflowOptions.WorkflowID", o.WorkflowID, "must be valid UTF-8 of at most 1024 bytes")
	}
	if err := checkQueue("ChildWorkflowOptions.TaskQueue", o.TaskQueue); err != nil {
		return err
	}
	switch o.ParentClosePolicy {
	case "", ParentCloseTerminate, ParentCloseCancel, ParentCloseAbandon:
	default:
		return optcheck.Invalid("ChildWorkflowOptions.ParentClosePolicy", string(o.ParentClosePolicy),
			"must be ParentCloseTerminate, ParentCloseCancel or ParentCloseAbandon")
	}
	return nil
}

func (o CallbackOptions) validate() error {
	if err := optcheck.NotNegative("CallbackOptions.Timeout", o.Timeout); err != nil {
		return err
	}
	return optcheck.NotNegative("CallbackOptions.HeartbeatTimeout", o.HeartbeatTimeout)
}

func (o BatchOptions) validate() error {
	if o.MaxConcurrency < 0 {
		return optcheck.Invalid("BatchOptions.MaxConcurrency", o.MaxConcurrency, "must not be negative (0 means all at once)")
	}
	if o.MinSuccessful < 0 {
		return optcheck.Invalid("BatchOptions.MinSuccessful", o.MinSuccessful, "must not be negative (0 means all must finish)")
	}
	if p := o.ToleratedFailurePercent; !(p >= 0 && p <= 100) {
		return optcheck.Invalid("BatchOptions.ToleratedFailurePercent", p, "must be between 0 and 100")
	}
	return nil
}
