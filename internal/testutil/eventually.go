package testutil

import (
	"errors"
	"testing"
	"time"
)

// Poll intervals: start fast (most conditions hold within milliseconds on
// a quiet machine) and back off so that a slow condition on a loaded one
// does not burn the CPU the system under test needs.
const (
	firstPoll = 5 * time.Millisecond
	maxPoll   = 100 * time.Millisecond
)

// Eventually calls check until it returns nil, or fails the test with the
// last error check returned once timeout has passed. check must not call
// t.Fatal itself; it reports why the condition does not hold yet.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	if err := Poll(timeout, check); err != nil {
		t.Fatalf("condition not met after %v: %v", timeout, err)
	}
}

// EventuallyTrue is Eventually for a condition without a reason: what
// names the condition in the failure message.
func EventuallyTrue(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	Eventually(t, timeout, func() error {
		if cond() {
			return nil
		}
		return errors.New(what)
	})
}

// Poll calls check until it returns nil (Poll returns nil) or timeout has
// passed (Poll returns check's last error), backing off between calls.
// check runs at least once.
func Poll(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	wait := firstPoll
	for {
		err := check()
		if err == nil {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return err
		}
		time.Sleep(min(wait, left))
		wait = min(wait*2, maxPoll)
	}
}
