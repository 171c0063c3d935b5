package act_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/sdk/failure"
)

type chargeInput struct {
	Card  string `json:"card"`
	Cents int    `json:"cents"`
}

type receipt struct {
	ID string `json:"id"`
}

func ChargeCard(_ context.Context, in chargeInput) (receipt, error) {
	if in.Cents <= 0 {
		return receipt{}, failure.NonRetryable("amount must be positive", "InvalidAmount")
	}
	return receipt{ID: in.Card + "-ok"}, nil
}

type billing struct{}

func (*billing) Refund(context.Context, string) (string, error) { return "", nil }

func generic[T any](context.Context, T) (T, error) {
	var zero T
	return zero, nil
}

func TestName(t *testing.T) {
	b := &billing{}
	tests := []struct {
		fn   any
		want string
	}{
		{ChargeCard, "ChargeCard"},
		{b.Refund, "Refund"},
		{(*billing).Refund, "Refund"},
		{generic[string], "generic"},
		{nil, ""},
		{42, ""},
		{(func())(nil), ""},
	}
	for _, tt := range tests {
		if got := act.Name(tt.fn); got != tt.want {
			t.Errorf("Name(%T) = %q, want %q", tt.fn, got, tt.want)
		}
	}
}

func TestHandler(t *testing.T) {
	h := act.Handler(ChargeCard, nil)
	ctx := context.Background()

	out, err := h(ctx, &activities.Task{ActivityAttempt: history.ActivityAttempt{ActivityType: "ChargeCard"}, Input: []byte(`{"card":"4242","cents":100}`)})
	if err != nil || string(out) != `{"id":"4242-ok"}` {
		t.Fatalf("got %s, %v", out, err)
	}

	_, err = h(ctx, &activities.Task{ActivityAttempt: history.ActivityAttempt{ActivityType: "ChargeCard"}, Input: []byte(`{"cents":0}`)})
	var app *failure.ApplicationError
	if !errors.As(err, &app) || app.Type != "InvalidAmount" {
		t.Fatalf("activity error not passed through: %v", err)
	}

	_, err = h(ctx, &activities.Task{ActivityAttempt: history.ActivityAttempt{ActivityType: "ChargeCard"}, Input: []byte(`"not an object"`)})
	if !errors.As(err, &app) || app.Type != act.FailureInvalidInput || !app.NonRetryable {
		t.Fatalf("decode error = %v", err)
	}

	// A missing input decodes to the zero value.
	_, err = h(ctx, &activities.Task{ActivityAttempt: history.ActivityAttempt{ActivityType: "ChargeCard"}})
	if !errors.As(err, &app) || app.Type != "InvalidAmount" {
		t.Fatalf("empty input: %v", err)
	}
}

func TestHandlerEncodeError(t *testing.T) {
	h := act.Handler(func(context.Context, struct{}) (chan int, error) { return make(chan int), nil }, nil)
	_, err := h(context.Background(), &activities.Task{ActivityAttempt: history.ActivityAttempt{ActivityType: "Chan"}})
	var app *failure.ApplicationError
	if !errors.As(err, &app) || app.Type != activities.FailureInvalidOutput || !app.NonRetryable {
		t.Fatalf("encode error = %v", err)
	}
}
