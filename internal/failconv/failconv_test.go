package failconv_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/sdk/failure"
)

func TestFromFailureNil(t *testing.T) {
	if err := failconv.FromFailure(nil); err != nil {
		t.Fatalf("FromFailure(nil) = %v", err)
	}
}

func TestIsRetryable(t *testing.T) {
	fo := func(err error) *history.Failure { return history.FailureOf(err) }
	tests := []struct {
		name   string
		f      *history.Failure
		listed []string
		want   bool
	}{
		{"nil", nil, nil, false},
		{"generic", fo(errors.New("x")), nil, true},
		{"application", fo(failure.New("x", "Flaky")), nil, true},
		{"non-retryable flag", fo(failure.NonRetryable("x", "Bad")), nil, false},
		{"listed type", fo(failure.New("x", "Bad")), []string{"Other", "Bad"}, false},
		{"listed panic", fo(&failure.PanicError{Value: "p"}), []string{history.FailurePanic}, false},
		{"panic", fo(&failure.PanicError{Value: "p"}), nil, true},
		{"start-to-close", fo(&failure.TimeoutError{Kind: failure.TimeoutStartToClose}), nil, true},
		{"heartbeat", fo(&failure.TimeoutError{Kind: failure.TimeoutHeartbeat}), nil, true},
		{"schedule-to-start", fo(&failure.TimeoutError{Kind: failure.TimeoutScheduleToStart}), nil, false},
		{"schedule-to-close", fo(&failure.TimeoutError{Kind: failure.TimeoutScheduleToClose}), nil, false},
		{"foreign schedule-to-start", &history.Failure{Type: history.FailureTimeout, Details: json.RawMessage(`{"kind":"schedule-to-start"}`)}, nil, false},
		{"canceled", fo(&failure.CanceledError{}), nil, false},
		{"terminated", fo(&failure.TerminatedError{}), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := failconv.IsRetryable(tt.f, tt.listed); got != tt.want {
				t.Fatalf("IsRetryable = %v, want %v", got, tt.want)
			}
		})
	}
}
