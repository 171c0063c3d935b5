package streams

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestRetryTimeouts(t *testing.T) {
	other := errors.New("stream name already in use")
	for _, tc := range []struct {
		name   string
		errs   []error // what the attempts return, the last one repeated
		calls  int
		wantIs error
	}{
		{"success", []error{nil}, 1, nil},
		{"timeouts then success", []error{context.DeadlineExceeded, fmt.Errorf("look up: %w", nats.ErrTimeout), nil}, 3, nil},
		{"other error at once", []error{other}, 1, other},
		{"timeout after timeout", []error{context.DeadlineExceeded}, apiAttempts, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := retryTimeouts(context.Background(), nil, func(ctx context.Context) error {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("attempt without a deadline")
				}
				calls++
				return tc.errs[min(calls, len(tc.errs))-1]
			})
			if calls != tc.calls || !errors.Is(err, tc.wantIs) || (tc.wantIs == nil && err != nil) {
				t.Fatalf("%d calls, %v; want %d calls, %v", calls, err, tc.calls, tc.wantIs)
			}
		})
	}

	// The caller's own deadline or cancellation ends the retries.
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := retryTimeouts(ctx, nil, func(context.Context) error {
		calls++
		cancel()
		return context.DeadlineExceeded
	})
	if calls != 1 || err == nil {
		t.Fatalf("canceled caller: %d calls, %v", calls, err)
	}
}
