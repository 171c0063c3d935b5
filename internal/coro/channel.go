package coro

import "errors"

var (
	errSendOnClosed  = errors.New("coro: send on closed channel")
	errCloseOfClosed = errors.New("coro: close of closed channel")
)

// op is a pending blocking operation of one coroutine: a Send, a Receive or
// a Select over several channel cases. Channels queue waiters that point at
// it; whichever counterpart completes one of them first "fires" the op and
// records the outcome, and the coroutine's Block condition is op.fired.
type op struct {
	// gen identifies the operation; waiters carry the gen they were
	// registered with, so a waiter left behind by an earlier operation
	// (a Select that fired elsewhere, a coroutine unwound by Close) is
	// recognisably stale and skipped.
	gen    uint64
	fired  bool
	closed bool // a send waiter fired by Close: the sender must panic
	ok     bool // received value is real (false: channel closed)
	idx    int  // case index of the waiter that fired (Select)
	val    any  // received value
}

// begin starts a new operation on the coroutine's op.
func (co *Coroutine) begin() *op {
	o := &co.op
	o.gen++
	o.fired, o.closed, o.ok, o.idx, o.val = false, false, false, 0, nil
	return o
}

// end retires the operation so nothing can fire it again.
func (o *op) end() {
	o.gen++
	o.val = nil
}

// opDone is the Block condition of a plain Send or Receive.
func (co *Coroutine) opDone() func() bool {
	if co.opDoneFn == nil {
		co.opDoneFn = func() bool { return co.op.fired }
	}
	return co.opDoneFn
}

// waiter is an entry in a channel's queue of blocked senders or receivers.
type waiter struct {
	op  *op
	gen uint64
	idx int // Select case index
	val any // value to send (send waiters)
}

func (w *waiter) live() bool { return w.op.gen == w.gen && !w.op.fired }

// fire completes the waiter's operation.
func (w *waiter) fire(val any, ok bool) {
	o := w.op
	o.fired, o.idx, o.val, o.ok = true, w.idx, val, ok
}

// waitq is a FIFO of waiters. FIFO order is what makes the choice of
// blocked sender or receiver deterministic: the one that blocked first,
// and coroutines block in scheduler order.
type waitq struct {
	ws   []waiter
	head int
}

func (q *waitq) push(w waiter) {
	if q.head > 0 && len(q.ws) == cap(q.ws) {
		// Reuse the consumed prefix rather than growing forever when the
		// queue never drains completely.
		n := copy(q.ws, q.ws[q.head:])
		clear(q.ws[n:])
		q.ws, q.head = q.ws[:n], 0
	}
	q.ws = append(q.ws, w)
}

// first returns the oldest live waiter, dropping stale ones, or nil.
func (q *waitq) first() *waiter {
	for q.head < len(q.ws) {
		if w := &q.ws[q.head]; w.live() {
			return w
		}
		q.ws[q.head] = waiter{}
		q.head++
	}
	q.ws, q.head = q.ws[:0], 0
	return nil
}

// pop removes and returns the oldest live waiter.
func (q *waitq) pop() (waiter, bool) {
	w := q.first()
	if w == nil {
		return waiter{}, false
	}
	v := *w
	*w = waiter{}
	q.head++
	if q.head == len(q.ws) {
		q.ws, q.head = q.ws[:0], 0
	}
	return v, true
}

// remove drops every waiter of o (a Select deregistering its cases).
func (q *waitq) remove(o *op) {
	j := q.head
	for i := q.head; i < len(q.ws); i++ {
		if q.ws[i].op != o {
			q.ws[j] = q.ws[i]
			j++
		}
	}
	clear(q.ws[j:])
	q.ws = q.ws[:j]
	if q.head == len(q.ws) {
		q.ws, q.head = q.ws[:0], 0
	}
}

// drain fires every live waiter, for Close.
func (q *waitq) drain(fire func(w *waiter)) {
	for i := q.head; i < len(q.ws); i++ {
		if w := &q.ws[i]; w.live() {
			fire(w)
		}
	}
	clear(q.ws)
	q.ws, q.head = q.ws[:0], 0
}

// Channel is a deterministic channel for coroutines of one scheduler, with
// Go channel semantics: unbuffered channels are rendezvous points, buffered
// values survive Close, sending on or closing a closed channel panics.
// Blocked senders and receivers are served in FIFO order. Send and Receive
// may also be called from outside any coroutine through TrySend and
// TryReceive (the engine delivering a signal between Runs, say).
type Channel struct {
	buf    []any // ring buffer of len capacity
	head   int
	count  int
	closed bool
	recvq  waitq // blocked receivers (and Select receive cases)
	sendq  waitq // blocked senders (and Select send cases)
}

// NewChannel returns a channel with the given buffer capacity; 0 makes an
// unbuffered channel.
func NewChannel(capacity int) *Channel {
	if capacity < 0 {
		panic("coro: negative channel capacity")
	}
	c := &Channel{}
	if capacity > 0 {
		c.buf = make([]any, capacity)
	}
	return c
}

// Len returns the number of buffered values.
func (c *Channel) Len() int { return c.count }

// Cap returns the buffer capacity.
func (c *Channel) Cap() int { return len(c.buf) }

// Send sends v, blocking co until a receiver takes it or buffer space is
// free. It panics if the channel is closed, including while co is blocked.
func (c *Channel) Send(co *Coroutine, v any) {
	if c.trySend(v) {
		return
	}
	o := co.begin()
	c.sendq.push(waiter{op: o, gen: o.gen, val: v})
	co.Block(co.opDone())
	closed := o.closed
	o.end()
	if closed {
		panic(errSendOnClosed)
	}
}

// TrySend sends v if that is possible without blocking and reports whether
// it did. It panics if the channel is closed.
func (c *Channel) TrySend(v any) bool { return c.trySend(v) }

func (c *Channel) trySend(v any) bool {
	if c.closed {
		panic(errSendOnClosed)
	}
	if w, ok := c.recvq.pop(); ok {
		w.fire(v, true)
		return true
	}
	if c.count < len(c.buf) {
		c.buf[(c.head+c.count)%len(c.buf)] = v
		c.count++
		return true
	}
	return false
}

// canSend reports whether a send would complete (or panic) without blocking.
func (c *Channel) canSend() bool {
	return c.closed || c.recvq.first() != nil || c.count < len(c.buf)
}

// Receive receives a value, blocking co until one is available. ok is false
// once the channel is closed and drained.
func (c *Channel) Receive(co *Coroutine) (v any, ok bool) {
	if v, ok, ready := c.TryReceive(); ready {
		return v, ok
	}
	o := co.begin()
	c.recvq.push(waiter{op: o, gen: o.gen})
	co.Block(co.opDone())
	v, ok = o.val, o.ok
	o.end()
	return v, ok
}

// TryReceive receives without blocking. ready reports whether the receive
// happened; ok is false if it happened because the channel is closed and
// drained.
func (c *Channel) TryReceive() (v any, ok, ready bool) {
	if c.count > 0 {
		v = c.buf[c.head]
		c.buf[c.head] = nil
		c.head = (c.head + 1) % len(c.buf)
		c.count--
		// A slot opened: move the oldest blocked sender's value in.
		if w, found := c.sendq.pop(); found {
			c.buf[(c.head+c.count)%len(c.buf)] = w.val
			c.count++
			w.fire(nil, false)
		}
		return v, true, true
	}
	if w, found := c.sendq.pop(); found {
		w.fire(nil, false)
		return w.val, true, true
	}
	if c.closed {
		return nil, false, true
	}
	return nil, false, false
}

// canReceive reports whether a receive would complete without blocking.
func (c *Channel) canReceive() bool {
	return c.count > 0 || c.sendq.first() != nil || c.closed
}

// Close closes the channel: blocked and future receivers get the buffered
// values and then ok == false; blocked senders panic. Closing a closed
// channel panics.
func (c *Channel) Close() {
	if c.closed {
		panic(errCloseOfClosed)
	}
	c.closed = true
	c.recvq.drain(func(w *waiter) { w.fire(nil, false) })
	c.sendq.drain(func(w *waiter) {
		w.fire(nil, false)
		w.op.closed = true
	})
}
