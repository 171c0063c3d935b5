package failure_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/sdk/failure"
)

// wire simulates crossing a process boundary: serialize, JSON-encode,
// decode, reconstruct.
func wire(t *testing.T, err error) error {
	t.Helper()
	b, jerr := json.Marshal(history.FailureOf(err))
	if jerr != nil {
		t.Fatal(jerr)
	}
	var f *history.Failure
	if jerr := json.Unmarshal(b, &f); jerr != nil {
		t.Fatal(jerr)
	}
	return failconv.FromFailure(f)
}

func TestRoundTrip(t *testing.T) {
	app := failure.New("insufficient funds", "CardDeclined",
		failure.WithNonRetryable(),
		failure.WithDetails(map[string]int{"balance": 3}),
		failure.WithCause(failure.New("502", "Upstream")))

	tests := []struct {
		name string
		in   error
		want error
	}{
		{"application", app, app},
		{"non-retryable shorthand", failure.NonRetryable("no", "Bad"), failure.NonRetryable("no", "Bad")},
		{"plain error", errors.New("boom"), &failure.ApplicationError{Type: history.FailureGeneric, Message: "boom"}},
		{"empty type", &failure.ApplicationError{Message: "m"}, &failure.ApplicationError{Type: history.FailureGeneric, Message: "m"}},
		{"wrapped application keeps its own form", fmt.Errorf("charging: %w", app), app},
		{"timeout", &failure.TimeoutError{Kind: failure.TimeoutHeartbeat, Message: "no heartbeat for 2s"},
			&failure.TimeoutError{Kind: failure.TimeoutHeartbeat, Message: "no heartbeat for 2s"}},
		{"panic", &failure.PanicError{Value: "nil map", Stack: "goroutine 1 [running]:\n..."},
			&failure.PanicError{Value: "nil map", Stack: "goroutine 1 [running]:\n..."}},
		{"canceled", &failure.CanceledError{Message: "by user"}, &failure.CanceledError{Message: "by user"}},
		{"terminated", &failure.TerminatedError{Reason: "ops"}, &failure.TerminatedError{Reason: "ops"}},
		{"activity", &failure.ActivityError{ActivityType: "ChargeCard", ActivityID: "3", Attempt: 5, Cause: app},
			&failure.ActivityError{ActivityType: "ChargeCard", ActivityID: "3", Attempt: 5, Cause: app}},
		{"workflow of activity of timeout",
			&failure.WorkflowError{WorkflowID: "order-1", Run: "r1", WorkflowType: "Order",
				Cause: &failure.ActivityError{ActivityType: "Ship", ActivityID: "7", Attempt: 1,
					RetryState: failure.RetryStateMaximumAttemptsReached,
					Cause:      &failure.TimeoutError{Kind: failure.TimeoutStartToClose, Message: "10s"}}},
			&failure.WorkflowError{WorkflowID: "order-1", Run: "r1", WorkflowType: "Order",
				Cause: &failure.ActivityError{ActivityType: "Ship", ActivityID: "7", Attempt: 1,
					RetryState: failure.RetryStateMaximumAttemptsReached,
					Cause:      &failure.TimeoutError{Kind: failure.TimeoutStartToClose, Message: "10s"}}}},
		{"unknown engine details degrade to application",
			failconv.FromFailure(&history.Failure{Type: failure.TypeActivity, Message: "m", Details: json.RawMessage(`"x"`)}),
			&failure.ApplicationError{Type: failure.TypeActivity, Message: "m", Details: json.RawMessage(`"x"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wire(t, tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("round trip:\n got  %#v\n want %#v", got, tt.want)
			}
			if got.Error() != tt.want.Error() {
				t.Fatalf("Error() = %q, want %q", got.Error(), tt.want.Error())
			}
		})
	}
}

func TestErrorsAsAcrossBoundary(t *testing.T) {
	sent := &failure.WorkflowError{WorkflowID: "w", Run: "r", WorkflowType: "T",
		Cause: &failure.ActivityError{ActivityType: "A", ActivityID: "1", Attempt: 2,
			Cause: failure.New("no", "CardDeclined", failure.WithDetails(struct {
				Code int `json:"code"`
			}{51}))}}
	got := wire(t, sent)

	var app *failure.ApplicationError
	if !errors.As(got, &app) || app.Type != "CardDeclined" {
		t.Fatalf("errors.As ApplicationError failed on %v", got)
	}
	var d struct {
		Code int `json:"code"`
	}
	if err := app.DecodeDetails(&d); err != nil || d.Code != 51 {
		t.Fatalf("details = %+v, %v", d, err)
	}
	var act *failure.ActivityError
	if !errors.As(got, &act) || act.Attempt != 2 {
		t.Fatalf("errors.As ActivityError failed on %v", got)
	}
	if !errors.Is(wire(t, &failure.CanceledError{}), context.Canceled) {
		t.Fatal("CanceledError does not match context.Canceled")
	}
}

func TestWithDetailsUnencodable(t *testing.T) {
	e := failure.New("m", "T", failure.WithDetails(make(chan int)))
	if !json.Valid(e.Details) {
		t.Fatalf("details %q are not JSON", e.Details)
	}
}

func TestErrorStrings(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{failure.New("no funds", "CardDeclined"), "CardDeclined: no funds"},
		{&failure.ApplicationError{Type: history.FailureGeneric, Message: "boom"}, "boom"},
		{&failure.TimeoutError{Kind: failure.TimeoutStartToClose, Message: "after 1s"}, "start-to-close timeout: after 1s"},
		{&failure.PanicError{Value: "oops"}, "panic: oops"},
		{&failure.CanceledError{}, "canceled"},
		{&failure.TerminatedError{Reason: "ops"}, "terminated: ops"},
		{&failure.ActivityError{ActivityType: "A", ActivityID: "1", Attempt: 3, Cause: errors.New("x")}, "activity A (id 1, attempt 3) failed: x"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
