package testutil

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that records a Fatalf instead of ending the
// test, so the helper's failure path can be tested.
type recorder struct {
	testing.TB
	failed atomic.Bool
	msg    string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed.Store(true)
	r.msg = fmt.Sprintf(format, args...)
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	start := time.Now()
	r := &recorder{TB: t}
	Eventually(r, 10*time.Second, func() error {
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if r.failed.Load() {
		t.Fatalf("failed: %s", r.msg)
	}
	if calls.Load() != 3 {
		t.Errorf("check called %d times, want 3", calls.Load())
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("returned after %v, long after the condition held", time.Since(start))
	}
}

func TestEventuallyFailsWithTheLastReason(t *testing.T) {
	r := &recorder{TB: t}
	n := 0
	Eventually(r, 30*time.Millisecond, func() error { n++; return fmt.Errorf("reason %d", n) })
	if !r.failed.Load() {
		t.Fatal("a condition that never holds did not fail the test")
	}
	if want := fmt.Sprintf("reason %d", n); n < 2 || !strings.Contains(r.msg, want) {
		t.Errorf("message %q after %d calls, want the last reason %q", r.msg, n, want)
	}
}

func TestEventuallyTrueNamesTheCondition(t *testing.T) {
	r := &recorder{TB: t}
	EventuallyTrue(r, 10*time.Millisecond, func() bool { return false }, "the run closed")
	if !r.failed.Load() || !strings.Contains(r.msg, "the run closed") {
		t.Errorf("failed %v, message %q", r.failed.Load(), r.msg)
	}
}

func TestPollRunsTheCheckAtLeastOnce(t *testing.T) {
	called := false
	if err := Poll(0, func() error { called = true; return nil }); err != nil || !called {
		t.Errorf("Poll(0) = %v, called %v", err, called)
	}
}
