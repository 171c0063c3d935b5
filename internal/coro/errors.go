package coro

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/pprof"
	"strings"
	"time"
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("coro: scheduler closed")

// ErrGoexit is the PanicError value reported when workflow code calls
// runtime.Goexit (for instance through testing.T.FailNow), which would
// otherwise silently end a coroutine.
var ErrGoexit = errors.New("coro: runtime.Goexit called in coroutine")

// PanicError reports a panic in workflow code.
type PanicError struct {
	Name  string // coroutine that panicked
	Value any    // value passed to panic
	Stack string // goroutine stack at the panic
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("coro: coroutine %q panicked: %v", e.Name, e.Value)
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// DeadlockError reports a coroutine that ran longer than the deadlock
// timeout without blocking: typically an infinite loop, a real sleep or
// blocking I/O in workflow code. The coroutine is still running; the
// scheduler is broken and must be closed.
type DeadlockError struct {
	Name    string        // coroutine that did not yield
	Timeout time.Duration // the deadlock timeout it exceeded
	Stack   string        // its goroutine's stack, empty if it could not be found
}

func (e *DeadlockError) Error() string {
	return fmt.Sprintf("coro: potential deadlock: coroutine %q did not yield for over %v", e.Name, e.Timeout)
}

// runawayStack returns the stacks of the scheduler's goroutines that are
// executing user code (the runaway coroutine, or the driver if a Block
// condition is the culprit).
//
// Go has no API to read another goroutine's stack by identity. The
// scheduler's goroutines carry a profiler label unique to it, so the
// goroutine profile picks out exactly its goroutines even when many
// workflow instances share the process; among them, the ones parked in a
// coroutine switch (top frame inside iter.Pull) are idle and skipped. The
// profile is only taken here, on the failure path.
func runawayStack(label string) string {
	if label == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return ""
	}
	var out []string
	for rec := range strings.SplitSeq(buf.String(), "\n\n") {
		if !strings.Contains(rec, "# labels: ") || !strings.Contains(rec, label) {
			continue
		}
		if parked(rec) {
			continue
		}
		out = append(out, strings.TrimSpace(rec))
	}
	return strings.Join(out, "\n\n")
}

// parked reports whether the first symbolized frame of a goroutine profile
// record is iter.Pull's switch: an idle coroutine or a driver waiting on one.
func parked(rec string) bool {
	for line := range strings.Lines(rec) {
		if !strings.HasPrefix(line, "#\t") {
			continue
		}
		f := strings.Fields(line)
		return len(f) >= 3 && strings.HasPrefix(f[2], "iter.Pull[")
	}
	return false
}
