// Package order is the demo workflow of cairn: an order that charges a
// card, reserves stock, waits for the shipping slot and ships, undoing the
// charge and the reservation if a later step fails.
package order

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/workflow"
)

// Order is the workflow input.
type Order struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
	AmountCt int64  `json:"amountCents"`
	// ShipAfter delays shipping (the demo's durable sleep).
	ShipAfter time.Duration `json:"shipAfter"`
}

// Receipt is the workflow result.
type Receipt struct {
	OrderID     string `json:"orderId"`
	ChargeID    string `json:"chargeId"`
	Reservation string `json:"reservation"`
	Tracking    string `json:"tracking"`
}

// Workflow processes an order: charge → reserve → sleep → ship. If a step
// fails for good, the steps already done are compensated in reverse order.
func Workflow(ctx workflow.Context, o Order) (Receipt, error) {
	log := workflow.GetLogger(ctx)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &workflow.RetryPolicy{
			InitialInterval: time.Second, MaximumAttempts: 3,
			NonRetryableErrorTypes: []string{"OutOfStock", "CardDeclined"},
		},
	})
	var compensations []func(workflow.Context) error
	compensate := func(cause error) error {
		// Compensations run even if the workflow was canceled.
		dctx := workflow.NewDisconnectedContext(ctx)
		for i := len(compensations) - 1; i >= 0; i-- {
			if err := compensations[i](dctx); err != nil {
				log.Error("compensation failed", "error", err)
			}
		}
		return cause
	}

	charge, err := workflow.ExecuteActivity(ctx, Charge, o).Get(ctx)
	if err != nil {
		return Receipt{}, err
	}
	compensations = append(compensations, func(ctx workflow.Context) error {
		_, err := workflow.ExecuteActivity(ctx, Refund, charge).Get(ctx)
		return err
	})

	res, err := workflow.ExecuteActivity(ctx, Reserve, o).Get(ctx)
	if err != nil {
		return Receipt{}, compensate(err)
	}
	compensations = append(compensations, func(ctx workflow.Context) error {
		_, err := workflow.ExecuteActivity(ctx, Release, res).Get(ctx)
		return err
	})

	if err := workflow.Sleep(ctx, o.ShipAfter); err != nil {
		return Receipt{}, compensate(err)
	}
	tracking, err := workflow.ExecuteActivity(ctx, Ship, o).Get(ctx)
	if err != nil {
		return Receipt{}, compensate(err)
	}
	log.Info("order shipped", "order", o.ID, "tracking", tracking)
	return Receipt{OrderID: o.ID, ChargeID: charge, Reservation: res, Tracking: tracking}, nil
}

// Charge charges the customer's card and returns the charge id.
func Charge(ctx context.Context, o Order) (string, error) {
	if o.AmountCt <= 0 {
		return "", failure.NonRetryable(fmt.Sprintf("invalid amount %d", o.AmountCt), "CardDeclined")
	}
	return fmt.Sprintf("ch_%s_%d", o.ID, activity.GetInfo(ctx).Attempt), nil
}

// Refund refunds a charge.
func Refund(ctx context.Context, chargeID string) (string, error) { return "re_" + chargeID, nil }

// Reserve reserves stock and returns the reservation id.
func Reserve(ctx context.Context, o Order) (string, error) {
	if o.Quantity > 100 {
		return "", failure.NonRetryable(fmt.Sprintf("only 100 %s in stock", o.Item), "OutOfStock")
	}
	return "rs_" + o.ID, nil
}

// Release releases a reservation.
func Release(ctx context.Context, reservation string) (string, error) {
	return "released_" + reservation, nil
}

// Ship hands the order to the carrier and returns the tracking number.
func Ship(ctx context.Context, o Order) (string, error) {
	if o.Item == "" {
		return "", errors.New("nothing to ship")
	}
	return "trk_" + o.ID, nil
}
