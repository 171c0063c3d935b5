package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/workflow"
)

// The workflows the tests of the time-skipping env and of the replayer run.

const month = 30 * 24 * time.Hour

// Plan is the input of Subscription: bill Months times, Every apart.
type Plan struct {
	Customer string
	Months   int
	Every    time.Duration
	Cents    int
}

// Bill is what ChargeMonth charges.
type Bill struct {
	Customer string
	Month    int
	Cents    int
}

// Statement is the result of Subscription.
type Statement struct {
	Welcome string
	Charges []string
	Ended   time.Time
}

// Subscription greets the customer (a recorded step), then charges every
// month and sleeps until the next one: a workflow that lives a year.
func Subscription(ctx workflow.Context, p Plan) (Statement, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &workflow.RetryPolicy{InitialInterval: time.Hour, MaximumAttempts: 3, NonRetryableErrorTypes: []string{"CardDeclined"}},
	})
	var s Statement
	welcome, err := workflow.Step(ctx, "welcome", func() (string, error) { return "welcome " + p.Customer, nil })
	if err != nil {
		return s, err
	}
	s.Welcome = welcome
	for m := 1; m <= p.Months; m++ {
		id, err := workflow.ExecuteActivity(ctx, ChargeMonth, Bill{Customer: p.Customer, Month: m, Cents: p.Cents}).Get(ctx)
		if err != nil {
			return s, err
		}
		s.Charges = append(s.Charges, id)
		if err := workflow.Sleep(ctx, p.Every); err != nil {
			return s, err
		}
	}
	s.Ended = workflow.Now(ctx)
	return s, nil
}

// ChargeMonth is the real activity: an id naming month and attempt.
func ChargeMonth(ctx context.Context, b Bill) (string, error) {
	if b.Cents <= 0 {
		return "", failure.NonRetryable(fmt.Sprintf("invalid amount %d", b.Cents), "CardDeclined")
	}
	return fmt.Sprintf("ch_%s_%d_%d", b.Customer, b.Month, activity.GetInfo(ctx).Attempt), nil
}

// Three changed versions of Subscription, each breaking its history in a
// known place.

// SubscriptionRenamedActivity charges with another activity type.
func SubscriptionRenamedActivity(ctx workflow.Context, p Plan) (Statement, error) {
	var s Statement
	s.Welcome, _ = workflow.Step(ctx, "welcome", func() (string, error) { return "welcome " + p.Customer, nil })
	for m := 1; m <= p.Months; m++ {
		id, err := workflow.ExecuteActivityByName[string](ctx, "ChargeMonthV2", Bill{Customer: p.Customer, Month: m}).Get(ctx)
		if err != nil {
			return s, err
		}
		s.Charges = append(s.Charges, id)
		_ = workflow.Sleep(ctx, p.Every)
	}
	return s, nil
}

// SubscriptionExtraTimer waits a minute before the third charge.
func SubscriptionExtraTimer(ctx workflow.Context, p Plan) (Statement, error) {
	var s Statement
	s.Welcome, _ = workflow.Step(ctx, "welcome", func() (string, error) { return "welcome " + p.Customer, nil })
	for m := 1; m <= p.Months; m++ {
		if m == 3 {
			_ = workflow.Sleep(ctx, time.Minute)
		}
		id, err := workflow.ExecuteActivity(ctx, ChargeMonth, Bill{Customer: p.Customer, Month: m}).Get(ctx)
		if err != nil {
			return s, err
		}
		s.Charges = append(s.Charges, id)
		_ = workflow.Sleep(ctx, p.Every)
	}
	return s, nil
}

// SubscriptionNoWelcome dropped the welcome step.
func SubscriptionNoWelcome(ctx workflow.Context, p Plan) (Statement, error) {
	var s Statement
	for m := 1; m <= p.Months; m++ {
		id, err := workflow.ExecuteActivity(ctx, ChargeMonth, Bill{Customer: p.Customer, Month: m}).Get(ctx)
		if err != nil {
			return s, err
		}
		s.Charges = append(s.Charges, id)
		_ = workflow.Sleep(ctx, p.Every)
	}
	return s, nil
}

// Approval waits up to three days for an "approve" or "reject" event and
// answers the "stage" query meanwhile.
func Approval(ctx workflow.Context, request string) (string, error) {
	stage := "waiting"
	workflow.SetQueryHandler(ctx, "stage", func(struct{}) (string, error) { return stage, nil })
	decision, err := workflow.ReceiveSignalTimeout[string](ctx, "decision", 72*time.Hour)
	if err != nil {
		stage = "expired"
		return "", err
	}
	stage = "decided"
	return request + ": " + decision + " at " + workflow.Now(ctx).Format(time.RFC3339), nil
}

// errDeclined is what the mocks in the tests return for a declined card.
var errDeclined = errors.New("declined")
