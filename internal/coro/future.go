package coro

// Future is a value that becomes available once. The engine sets futures
// (activity results, timers firing) between Runs, or workflow code sets
// them from a coroutine; coroutines wait for them with Get or a Selector.
// The zero value is an unset future.
type Future struct {
	ready   bool
	value   any
	err     error
	readyFn func() bool // cached Block condition, built on first wait
}

// NewFuture returns an unset future.
func NewFuture() *Future { return &Future{} }

// Set makes the future ready with v and err. Only the first Set counts; it
// reports whether this call was it.
func (f *Future) Set(v any, err error) bool {
	if f.ready {
		return false
	}
	f.value, f.err, f.ready = v, err, true
	return true
}

// IsReady reports whether the future has been set.
func (f *Future) IsReady() bool { return f.ready }

// Get blocks co until the future is set and returns its value and error.
func (f *Future) Get(co *Coroutine) (any, error) {
	if !f.ready {
		if f.readyFn == nil {
			f.readyFn = f.IsReady
		}
		co.Block(f.readyFn)
	}
	return f.value, f.err
}
