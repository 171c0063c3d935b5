package workflow

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/executor"
)

func TestOptionValidation(t *testing.T) {
	tests := []struct {
		name    string
		check   func() error
		invalid string // the option the error must name; "" means valid
	}{
		{"zero activity options", ActivityOptions{}.validate, ""},
		{"full activity options", ActivityOptions{TaskQueue: "q-1", ScheduleToCloseTimeout: time.Hour, ScheduleToStartTimeout: time.Minute,
			StartToCloseTimeout: time.Second, HeartbeatTimeout: time.Second,
			RetryPolicy: &RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 1.5, MaximumInterval: time.Minute, MaximumAttempts: 5}}.validate, ""},
		{"activity queue", ActivityOptions{TaskQueue: "a.b"}.validate, "ActivityOptions.TaskQueue"},
		{"schedule-to-close", ActivityOptions{ScheduleToCloseTimeout: -1}.validate, "ActivityOptions.ScheduleToCloseTimeout"},
		{"schedule-to-start", ActivityOptions{ScheduleToStartTimeout: -time.Second}.validate, "ActivityOptions.ScheduleToStartTimeout"},
		{"start-to-close", ActivityOptions{StartToCloseTimeout: -time.Second}.validate, "ActivityOptions.StartToCloseTimeout"},
		{"heartbeat", ActivityOptions{HeartbeatTimeout: -time.Second}.validate, "ActivityOptions.HeartbeatTimeout"},
		{"retry zero", ActivityOptions{RetryPolicy: &RetryPolicy{}}.validate, ""},
		{"retry coefficient", ActivityOptions{RetryPolicy: &RetryPolicy{BackoffCoefficient: 0.5}}.validate, "RetryPolicy.BackoffCoefficient"},
		{"retry coefficient NaN", ActivityOptions{RetryPolicy: &RetryPolicy{BackoffCoefficient: math.NaN()}}.validate, "RetryPolicy.BackoffCoefficient"},
		{"retry coefficient 1", ActivityOptions{RetryPolicy: &RetryPolicy{BackoffCoefficient: 1}}.validate, ""},
		{"retry attempts", ActivityOptions{RetryPolicy: &RetryPolicy{MaximumAttempts: -1}}.validate, "RetryPolicy.MaximumAttempts"},
		{"retry initial", ActivityOptions{RetryPolicy: &RetryPolicy{InitialInterval: -1}}.validate, "RetryPolicy.InitialInterval"},
		{"retry maximum negative", ActivityOptions{RetryPolicy: &RetryPolicy{MaximumInterval: -1}}.validate, "RetryPolicy.MaximumInterval"},
		{"retry maximum below initial", ActivityOptions{RetryPolicy: &RetryPolicy{InitialInterval: time.Minute, MaximumInterval: time.Second}}.validate, "RetryPolicy.MaximumInterval"},
		{"retry maximum below default initial", ActivityOptions{RetryPolicy: &RetryPolicy{MaximumInterval: time.Millisecond}}.validate, "RetryPolicy.MaximumInterval"},
		{"zero child options", ChildWorkflowOptions{}.validate, ""},
		{"child options", ChildWorkflowOptions{WorkflowID: "order-1/ship", TaskQueue: "ship", ParentClosePolicy: ParentCloseAbandon}.validate, ""},
		{"child id", ChildWorkflowOptions{WorkflowID: "\xff"}.validate, "ChildWorkflowOptions.WorkflowID"},
		{"child id length", ChildWorkflowOptions{WorkflowID: strings.Repeat("x", 1025)}.validate, "ChildWorkflowOptions.WorkflowID"},
		{"child queue", ChildWorkflowOptions{TaskQueue: "a b"}.validate, "ChildWorkflowOptions.TaskQueue"},
		{"child policy", ChildWorkflowOptions{ParentClosePolicy: "orphan"}.validate, "ChildWorkflowOptions.ParentClosePolicy"},
		{"callback", CallbackOptions{Timeout: time.Hour, HeartbeatTimeout: time.Minute}.validate, ""},
		{"callback timeout", CallbackOptions{Timeout: -1}.validate, "CallbackOptions.Timeout"},
		{"callback heartbeat", CallbackOptions{HeartbeatTimeout: -1}.validate, "CallbackOptions.HeartbeatTimeout"},
		{"batch", BatchOptions{MaxConcurrency: 2, MinSuccessful: 1, ToleratedFailures: -1, ToleratedFailurePercent: 50}.validate, ""},
		{"batch concurrency", BatchOptions{MaxConcurrency: -1}.validate, "BatchOptions.MaxConcurrency"},
		{"batch min successful", BatchOptions{MinSuccessful: -1}.validate, "BatchOptions.MinSuccessful"},
		{"batch percent", BatchOptions{ToleratedFailurePercent: 101}.validate, "BatchOptions.ToleratedFailurePercent"},
		{"batch percent negative", BatchOptions{ToleratedFailurePercent: -1}.validate, "BatchOptions.ToleratedFailurePercent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			if tt.invalid == "" {
				if err != nil {
					t.Fatalf("valid options rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tt.invalid) {
				t.Fatalf("error %v, want ErrInvalidOption naming %s", err, tt.invalid)
			}
		})
	}
}

func TestDefaultVersionIsTheEngines(t *testing.T) {
	if DefaultVersion != executor.DefaultVersion {
		t.Fatalf("DefaultVersion %d, the engine records %d", DefaultVersion, executor.DefaultVersion)
	}
}
