package history

import (
	"testing"
	"time"
)

func TestRetryPolicyBackoff(t *testing.T) {
	s := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	tests := []struct {
		name   string
		policy RetryPolicy
		want   []time.Duration // Backoff(1), Backoff(2), ...
	}{
		{"defaults: 1s doubling, capped at 100x", RetryPolicy{},
			[]time.Duration{s(1), s(2), s(4), s(8), s(16), s(32), s(64), s(100), s(100)}},
		{"initial and coefficient", RetryPolicy{InitialInterval: Duration(s(0.5)), BackoffCoefficient: 3},
			[]time.Duration{s(0.5), s(1.5), s(4.5), s(13.5)}},
		{"maximum interval", RetryPolicy{InitialInterval: Duration(s(1)), BackoffCoefficient: 2, MaximumInterval: Duration(s(5))},
			[]time.Duration{s(1), s(2), s(4), s(5), s(5)}},
		{"initial above maximum", RetryPolicy{InitialInterval: Duration(s(10)), MaximumInterval: Duration(s(3))},
			[]time.Duration{s(3), s(3)}},
		{"coefficient 1: constant", RetryPolicy{InitialInterval: Duration(s(2)), BackoffCoefficient: 1},
			[]time.Duration{s(2), s(2), s(2)}},
		{"coefficient below 1 means the default", RetryPolicy{InitialInterval: Duration(s(1)), BackoffCoefficient: 0.5},
			[]time.Duration{s(1), s(2), s(4)}},
		{"negative intervals mean the defaults", RetryPolicy{InitialInterval: Duration(-s(1)), MaximumInterval: Duration(-s(1))},
			[]time.Duration{s(1), s(2)}},
		{"fractional coefficient", RetryPolicy{InitialInterval: Duration(100 * time.Millisecond), BackoffCoefficient: 1.5},
			[]time.Duration{100 * time.Millisecond, 150 * time.Millisecond, 225 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				if got := tt.policy.Backoff(i + 1); got != want {
					t.Errorf("Backoff(%d) = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

// TestRetryPolicyBackoffBounded: no attempt number overflows the cap, and
// attempt 0 or below waits the initial interval.
func TestRetryPolicyBackoffBounded(t *testing.T) {
	p := RetryPolicy{InitialInterval: Duration(time.Second), BackoffCoefficient: 10, MaximumInterval: Duration(time.Hour)}
	for _, n := range []int{-1, 0} {
		if got := p.Backoff(n); got != time.Second {
			t.Errorf("Backoff(%d) = %v", n, got)
		}
	}
	for _, n := range []int{5, 50, 5000, 1 << 30} {
		if got := p.Backoff(n); got != time.Hour {
			t.Errorf("Backoff(%d) = %v, want the cap", n, got)
		}
	}
	huge := RetryPolicy{InitialInterval: Duration(time.Hour), MaximumInterval: Duration(1<<63 - 1)}
	for _, n := range []int{10, 100, 1000} {
		if got := huge.Backoff(n); got <= 0 {
			t.Errorf("Backoff(%d) = %v, overflowed", n, got)
		}
	}
}
