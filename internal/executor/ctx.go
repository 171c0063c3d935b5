package executor

import (
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/coro"
)

// Ctx is the workflow context: a cancellation scope and value chain that
// lives inside one Instance. It mirrors context.Context, but its Done
// channel is a deterministic coroutine channel and cancellation happens only
// at points replay reproduces (workflow code, or an applied cancel event).
type Ctx struct {
	inst     *Instance
	parent   *Ctx
	key, val any

	// cancellation scope; nil for contexts that only add a value
	scope *scope
}

type scope struct {
	canceled bool
	err      *history.Failure
	done     *coro.Channel
	children []*scope
	onCancel []func()
}

func newScope() *scope { return &scope{} }

func (s *scope) cancel(err *history.Failure) {
	if s.canceled {
		return
	}
	s.canceled = true
	s.err = err
	if s.done != nil {
		s.done.Close()
	}
	// Callbacks and children run in registration order: deterministic, so
	// replay issues the same cancel commands in the same order.
	cbs := s.onCancel
	s.onCancel = nil
	for _, cb := range cbs {
		cb()
	}
	for _, c := range s.children {
		c.cancel(err)
	}
}

func (c *Ctx) sc() *scope {
	for x := c; x != nil; x = x.parent {
		if x.scope != nil {
			return x.scope
		}
	}
	return nil
}

// Instance returns the instance the context belongs to.
func (c *Ctx) Instance() *Instance { return c.inst }

// Err returns the cancellation failure once the scope is canceled, else nil.
func (c *Ctx) Err() *history.Failure {
	if s := c.sc(); s != nil && s.canceled {
		return s.err
	}
	return nil
}

// Done returns a channel closed when the scope is canceled.
func (c *Ctx) Done() *coro.Channel {
	s := c.sc()
	if s.done == nil {
		s.done = coro.NewChannel(0)
		if s.canceled {
			s.done.Close()
		}
	}
	return s.done
}

// Value returns the value bound to key in this context or its parents.
func (c *Ctx) Value(key any) any {
	for x := c; x != nil; x = x.parent {
		if x.key != nil && x.key == key {
			return x.val
		}
	}
	return nil
}

// WithValue returns a child context carrying key=val.
func (c *Ctx) WithValue(key, val any) *Ctx {
	return &Ctx{inst: c.inst, parent: c, key: key, val: val}
}

// WithCancel returns a child scope and the function that cancels it.
func (c *Ctx) WithCancel() (*Ctx, func()) {
	parent := c.sc()
	s := newScope()
	child := &Ctx{inst: c.inst, parent: c, scope: s}
	if parent.canceled {
		s.cancel(parent.err)
	} else {
		parent.children = append(parent.children, s)
	}
	return child, func() { s.cancel(CanceledFailure) }
}

// Disconnected returns a context whose scope is not canceled with the
// workflow's: clean-up code after a cancel request runs in it.
func (c *Ctx) Disconnected() *Ctx {
	return &Ctx{inst: c.inst, parent: c, scope: newScope()}
}

// onCancel registers fn to run when the scope is canceled; it returns false
// (and does not register) if the scope is already canceled.
func (c *Ctx) onCancel(fn func()) bool {
	s := c.sc()
	if s.canceled {
		return false
	}
	s.onCancel = append(s.onCancel, fn)
	return true
}
