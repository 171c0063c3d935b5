package coro

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// recorder collects an interleaving trace. Only one coroutine runs at a
// time, so it needs no lock; the race detector checks that claim.
type recorder struct{ events []string }

func (r *recorder) add(format string, args ...any) {
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) check(t *testing.T, want ...string) {
	t.Helper()
	if !slices.Equal(r.events, want) {
		t.Fatalf("trace:\n got  %q\n want %q", r.events, want)
	}
}

// mustRun runs s and fails the test on error.
func mustRun(t *testing.T, s *Scheduler) {
	t.Helper()
	if err := s.Run(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// runPanic runs s and returns the PanicError it must report.
func runPanic(t *testing.T, s *Scheduler) *PanicError {
	t.Helper()
	err := s.Run()
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Run = %v, want *PanicError", err)
	}
	return pe
}

// panicValue returns what fn panics with (nil if it does not).
func panicValue(fn func()) (r any) {
	defer func() { r = recover() }()
	fn()
	return nil
}

// waitGoroutines waits for the goroutine count to settle at or below max:
// exiting goroutines take a moment to be accounted for.
func waitGoroutines(t *testing.T, max int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= max {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want <= %d; leaked:\n%s", n, max, truncate(string(buf), 8000))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n..."
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}
