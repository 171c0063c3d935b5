package coro

// WaitGroup waits for a collection of coroutines to finish, like
// sync.WaitGroup but blocking through the scheduler. The zero value is
// ready to use.
type WaitGroup struct {
	n      int
	zeroFn func() bool // cached Block condition
}

// Add adds delta to the counter. It panics if the counter goes negative.
func (wg *WaitGroup) Add(delta int) {
	wg.n += delta
	if wg.n < 0 {
		panic("coro: negative WaitGroup counter")
	}
}

// Done decrements the counter.
func (wg *WaitGroup) Done() { wg.Add(-1) }

// Wait blocks co until the counter is zero.
func (wg *WaitGroup) Wait(co *Coroutine) {
	if wg.n == 0 {
		return
	}
	if wg.zeroFn == nil {
		wg.zeroFn = func() bool { return wg.n == 0 }
	}
	co.Block(wg.zeroFn)
}
