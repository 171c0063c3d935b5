package coro

// Selector waits on several futures and channel operations at once: the
// deterministic counterpart of a select statement. Select runs exactly one
// case. When several are ready, the one added first wins, unlike Go's
// random choice, so replay picks the same case. A future case fires at most
// once per Selector (Temporal semantics): once it has been selected, later
// Selects ignore it, so a loop over Select drains a set of futures. Channel
// cases can fire any number of times. The zero value is an empty Selector.
type Selector struct {
	cases      []selectCase
	hasDefault bool
	onDefault  func()
}

type caseKind uint8

const (
	caseFuture caseKind = iota + 1
	caseRecv
	caseSend
	// caseCond is ready while its condition holds (a signal buffered, say);
	// like a future it is polled from the Block condition.
	caseCond
)

type selectCase struct {
	kind     caseKind
	fired    bool // future case already selected
	fut      *Future
	ch       *Channel
	val      any // value of a send case
	onFuture func(*Future)
	onRecv   func(v any, ok bool)
	onSend   func()
	cond     func() bool
	onCond   func()
}

// NewSelector returns an empty Selector.
func NewSelector() *Selector { return &Selector{} }

// AddFuture adds a case that is ready once f is set; fn receives f.
func (s *Selector) AddFuture(f *Future, fn func(f *Future)) *Selector {
	s.cases = append(s.cases, selectCase{kind: caseFuture, fut: f, onFuture: fn})
	return s
}

// AddReceive adds a case that receives from ch and passes the result to fn
// (ok is false if ch is closed and drained).
func (s *Selector) AddReceive(ch *Channel, fn func(v any, ok bool)) *Selector {
	s.cases = append(s.cases, selectCase{kind: caseRecv, ch: ch, onRecv: fn})
	return s
}

// AddSend adds a case that sends v on ch and then calls fn. As in Go,
// selecting it on a closed channel panics.
func (s *Selector) AddSend(ch *Channel, v any, fn func()) *Selector {
	s.cases = append(s.cases, selectCase{kind: caseSend, ch: ch, val: v, onSend: fn})
	return s
}

// AddCondition adds a case that is ready while cond holds and then runs
// fn, which must make progress on what cond observes (take the buffered
// signal, say). It can fire any number of times. cond must depend only on
// workflow state, so that replay selects the same case.
func (s *Selector) AddCondition(cond func() bool, fn func()) *Selector {
	s.cases = append(s.cases, selectCase{kind: caseCond, cond: cond, onCond: fn})
	return s
}

// AddDefault adds a case that runs when no other case is ready, which makes
// Select non-blocking. A Selector has at most one default.
func (s *Selector) AddDefault(fn func()) *Selector {
	if s.hasDefault {
		panic("coro: Selector has more than one default case")
	}
	s.hasDefault, s.onDefault = true, fn
	return s
}

// HasPending reports whether Select would run a non-default case without
// blocking: a future case that is set and has not fired yet, or a channel
// case that can proceed.
func (s *Selector) HasPending() bool {
	for i := range s.cases {
		if s.caseReady(&s.cases[i]) {
			return true
		}
	}
	return false
}

func (s *Selector) caseReady(c *selectCase) bool {
	switch c.kind {
	case caseFuture:
		return !c.fired && c.fut.ready
	case caseRecv:
		return c.ch.canReceive()
	case caseCond:
		return c.cond()
	default:
		return c.ch.canSend()
	}
}

// Select blocks co until a case is ready and runs that case's function. With
// no case that can ever become ready (only spent futures) it blocks until
// the scheduler is closed, like an empty select statement.
func (s *Selector) Select(co *Coroutine) {
	// Ready cases, in the order they were added.
	for i := range s.cases {
		if s.try(i) {
			return
		}
	}
	if s.hasDefault {
		if s.onDefault != nil {
			s.onDefault()
		}
		return
	}

	// Nothing ready: register with every channel so that a counterpart
	// (plain operation or another Selector) can complete one case, and
	// poll the futures from the Block condition.
	o := co.begin()
	for i := range s.cases {
		switch c := &s.cases[i]; c.kind {
		case caseRecv:
			c.ch.recvq.push(waiter{op: o, gen: o.gen, idx: i})
		case caseSend:
			c.ch.sendq.push(waiter{op: o, gen: o.gen, idx: i, val: c.val})
		}
	}
	co.sel = s
	co.Block(co.selectReady())
	co.sel = nil
	// Deregister eagerly: a Selector in a loop would otherwise pile stale
	// waiters onto channels that never fire.
	for i := range s.cases {
		switch c := &s.cases[i]; c.kind {
		case caseRecv:
			c.ch.recvq.remove(o)
		case caseSend:
			c.ch.sendq.remove(o)
		}
	}
	fired, idx, v, ok, closed := o.fired, o.idx, o.val, o.ok, o.closed
	o.end()
	if fired {
		c := &s.cases[idx]
		if c.kind == caseSend {
			if closed {
				panic(errSendOnClosed)
			}
			if c.onSend != nil {
				c.onSend()
			}
			return
		}
		if c.onRecv != nil {
			c.onRecv(v, ok)
		}
		return
	}
	for i := range s.cases {
		switch c := &s.cases[i]; {
		case c.kind == caseFuture && !c.fired && c.fut.ready:
			s.fireFuture(c)
			return
		case c.kind == caseCond && c.cond():
			if c.onCond != nil {
				c.onCond()
			}
			return
		}
	}
	panic("coro: Select woke with no ready case") // unreachable
}

// try runs case i if it can proceed without blocking.
func (s *Selector) try(i int) bool {
	c := &s.cases[i]
	switch c.kind {
	case caseFuture:
		if c.fired || !c.fut.ready {
			return false
		}
		s.fireFuture(c)
	case caseRecv:
		v, ok, ready := c.ch.TryReceive()
		if !ready {
			return false
		}
		if c.onRecv != nil {
			c.onRecv(v, ok)
		}
	case caseCond:
		if !c.cond() {
			return false
		}
		if c.onCond != nil {
			c.onCond()
		}
	default:
		if !c.ch.trySend(c.val) { // panics if closed, as in Go
			return false
		}
		if c.onSend != nil {
			c.onSend()
		}
	}
	return true
}

func (s *Selector) fireFuture(c *selectCase) {
	c.fired = true
	if c.onFuture != nil {
		c.onFuture(c.fut)
	}
}

// futureReady reports whether a polled case can fire: a future, or a
// condition that holds.
func (s *Selector) futureReady() bool {
	for i := range s.cases {
		c := &s.cases[i]
		if (c.kind == caseFuture && !c.fired && c.fut.ready) || (c.kind == caseCond && c.cond()) {
			return true
		}
	}
	return false
}

// selectReady is the Block condition of Select: a channel counterpart
// fired the operation, or a future case became ready.
func (co *Coroutine) selectReady() func() bool {
	if co.selReadyF == nil {
		co.selReadyF = func() bool { return co.op.fired || co.sel.futureReady() }
	}
	return co.selReadyF
}
