package failure

import "github.com/cairnhq/cairn/history"

// PanicError reports a panic recovered in activity or workflow code.
// Panics are retryable: they are usually bugs or transient conditions that a
// new attempt on a fixed worker can get past.
type PanicError struct {
	// Value is the panic value, formatted with %v.
	Value string
	// Stack is the goroutine stack at the point of the panic.
	Stack string
}

// Error implements error.
func (e *PanicError) Error() string { return "panic: " + e.Value }

// Failure implements history.Failer.
func (e *PanicError) Failure() *history.Failure {
	return &history.Failure{Type: history.FailurePanic, Message: e.Value, Stack: e.Stack}
}
