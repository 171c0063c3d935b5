package coro

import (
	"context"
	"iter"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDeadlockTimeout is how long a coroutine may run without blocking
// before Run gives up on it, unless WithDeadlockTimeout says otherwise.
const DefaultDeadlockTimeout = time.Second

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithDeadlockTimeout sets how long a coroutine may run without yielding
// before Run returns a *DeadlockError. A value <= 0 disables detection,
// which is useful when stepping through workflow code in a debugger.
func WithDeadlockTimeout(d time.Duration) Option {
	return func(s *Scheduler) { s.timeout = d }
}

// Scheduler runs coroutines one at a time in a deterministic order. See the
// package documentation for the model. The zero value is not usable; call
// NewScheduler.
type Scheduler struct {
	// coros holds the unfinished coroutines in creation order; finished
	// ones are compacted away at the end of each pass.
	coros []*Coroutine
	live  int

	// running is the coroutine executing right now, if any. Block checks
	// it to reject calls made with the wrong *Coroutine or from outside.
	running *Coroutine

	// cur is the coroutine the driver is dealing with (evaluating its
	// condition or running it). It is written only between steps, so the
	// watchdog may read it once it has seen a step that never ended.
	cur *Coroutine

	// step is the handshake between the driver and the watchdog in Run.
	// The driver adds 1 when it enters user code (a condition or a
	// coroutine) and 1 when it leaves, so the value is odd exactly while
	// user code runs. The watchdog declares a deadlock by setting
	// abandonedBit on an odd value it has seen unchanged for the whole
	// timeout; the driver's Add on leaving then reveals the bit, and the
	// compare-and-swap guarantees exactly one of the two sides wins.
	step atomic.Uint64

	timeout time.Duration
	timer   *time.Timer
	result  chan error // driver -> Run; buffered so the driver never waits
	labels  context.Context
	label   string // `"key":"value"` as printed by the goroutine profile

	err    error // sticky: a panic or deadlock broke the scheduler
	inRun  bool
	closed bool

	// stuck is the coroutine abandoned by a deadlock. Its goroutine and
	// the driver that ran it are left alone; the driver unwinds it if it
	// ever yields.
	stuck *Coroutine

	// mu serialises unwinding done by Close with unwinding done by an
	// abandoned driver, the only time two goroutines touch coroutines.
	mu sync.Mutex
}

const abandonedBit = 1 << 63

// schedulerIDs numbers schedulers for their profiler label.
var schedulerIDs atomic.Uint64

// labelKey is the goroutine profiler label that marks the goroutines of one
// scheduler; it lets a DeadlockError show the stack of the runaway
// coroutine rather than every goroutine in the process.
const labelKey = "cairn.coro.scheduler"

// NewScheduler returns an empty scheduler.
func NewScheduler(opts ...Option) *Scheduler {
	s := &Scheduler{timeout: DefaultDeadlockTimeout, result: make(chan error, 1)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Coroutine is one thread of workflow code. It is handed to the function
// passed to Scheduler.Go and must be passed to every blocking call made by
// that function.
type Coroutine struct {
	s    *Scheduler
	name string
	fn   func(*Coroutine)

	// next and stop drive the goroutine through iter.Pull; yield is its
	// side of the hand-off. next is nil until the coroutine starts.
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool

	cond      func() bool // blocking condition while state == stateBlocked
	state     coState
	returned  bool // fn returned normally (distinguishes runtime.Goexit)
	unwinding bool // being unwound by Close or an abandoned driver
	panicErr  *PanicError

	// op is the coroutine's current channel or select operation. A
	// coroutine blocks on at most one operation at a time, so embedding
	// it keeps channel operations allocation-free.
	op op
	// sel is the Selector whose Select the coroutine is blocked in.
	sel *Selector
	// Cached condition closures, built on first use, so that blocking on
	// a channel or selector does not allocate.
	opDoneFn  func() bool
	selReadyF func() bool
}

type coState uint8

const (
	stateNew coState = iota
	stateRunning
	stateBlocked
	stateDone
)

// unwindSignal is the panic value Close uses to unwind a blocked coroutine.
// It is private, so workflow code cannot produce it, and it is recovered at
// the top of the coroutine.
type unwindSignal struct{}

var unwind any = &unwindSignal{}

// Go adds a coroutine running fn. It starts at the next pass of Run, after
// the coroutines created before it: called from a coroutine, that is later in
// the current Run; called from outside, in the next Run. Go on a closed
// scheduler does nothing (deferred workflow code may call it while Close
// unwinds), as the coroutine could never run.
func (s *Scheduler) Go(name string, fn func(co *Coroutine)) {
	if fn == nil {
		panic("coro: Go with nil function")
	}
	if s.closed {
		return
	}
	s.coros = append(s.coros, &Coroutine{s: s, name: name, fn: fn})
	s.live++
}

// Current returns the coroutine that is running, or nil when called from
// outside any coroutine (including from a Block condition).
func (s *Scheduler) Current() *Coroutine { return s.running }

// Done reports whether every coroutine has finished.
func (s *Scheduler) Done() bool { return s.live == 0 }

// Len returns the number of coroutines that have not finished.
func (s *Scheduler) Len() int { return s.live }

// Name returns the name given to Go.
func (co *Coroutine) Name() string { return co.name }

// Scheduler returns the scheduler running co.
func (co *Coroutine) Scheduler() *Scheduler { return co.s }

// Block suspends co until cond returns true; it returns at once if cond is
// already true. cond is evaluated by the scheduler, possibly many times and
// outside the coroutine, so it must be cheap, must not block and must read
// only state that coroutines or the engine change between evaluations.
//
// Block is the only place where control leaves a coroutine, which is what
// makes the interleaving deterministic. It must be called from co's own
// goroutine while co is running.
func (co *Coroutine) Block(cond func() bool) {
	// Checking unwinding first keeps Block from reading s.running while an
	// abandoned driver may still write it.
	if !co.unwinding && co.s.running != co {
		panic("coro: Block called outside coroutine " + strconv.Quote(co.name))
	}
	if cond() {
		return
	}
	co.cond = cond
	co.state = stateBlocked
	if !co.yield(struct{}{}) {
		// Close (or an abandoned driver) stopped the coroutine. Invalidate
		// any channel registration of the interrupted operation so no one
		// hands a value to a coroutine that is going away, then unwind.
		co.cond = nil
		co.op.gen++
		panic(unwind)
	}
}

// body is the coroutine's goroutine, run through iter.Pull.
func (co *Coroutine) body(yield func(struct{}) bool) {
	co.yield = yield
	defer func() { co.exit(recover()) }()
	co.fn(co)
	co.returned = true
}

// exit records how the coroutine ended. A nil value with returned unset is
// runtime.Goexit, which iter.Pull propagates to the driver; the driver
// reports it.
func (co *Coroutine) exit(r any) {
	if r == nil || r == unwind || co.unwinding {
		// Panics raised while unwinding (by deferred workflow code) have
		// nowhere to go: Close cannot fail and the instance is discarded.
		return
	}
	co.panicErr = &PanicError{Name: co.name, Value: r, Stack: string(debug.Stack())}
}

// release drops references held by a finished coroutine so that its closure
// and everything it captured can be collected.
func (co *Coroutine) release() {
	co.state = stateDone
	co.fn, co.next, co.stop, co.yield, co.cond = nil, nil, nil, nil, nil
	co.opDoneFn, co.selReadyF, co.sel = nil, nil, nil
}

// Run runs coroutines until every live one is blocked or all have finished.
// Coroutines are visited in creation order, repeatedly, and each runs alone
// until it blocks; see the package documentation.
//
// Run returns a *PanicError if a coroutine panicked and a *DeadlockError if
// one ran longer than the deadlock timeout without blocking. Either error
// is sticky: the scheduler stops running code and every later Run returns
// it; Close it. Run returns ErrClosed after Close. Run must not be called
// from a coroutine.
func (s *Scheduler) Run() error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return ErrClosed
	}
	if s.inRun {
		panic("coro: Run called from inside a coroutine")
	}
	if len(s.coros) == 0 {
		return nil
	}
	s.inRun = true
	defer func() { s.inRun = false }()

	if s.timeout > 0 && s.labels == nil {
		id := strconv.FormatUint(schedulerIDs.Add(1), 10)
		s.labels = pprof.WithLabels(context.Background(), pprof.Labels(labelKey, id))
		s.label = strconv.Quote(labelKey) + ":" + strconv.Quote(id)
	}
	s.step.Store(0)
	// The driver runs on its own goroutine so that Run can give up on a
	// coroutine that never yields: a runaway coroutine is stuck in user
	// code, and so is whoever resumed it.
	go s.drive()
	err := s.await()
	if err != nil {
		s.err = err
	}
	return err
}

// await waits for the driver and watches for a step that never ends.
func (s *Scheduler) await() error {
	if s.timeout <= 0 {
		return <-s.result
	}
	// Sampling four times per timeout bounds detection between the timeout
	// and 1.25 times it, at no cost to Runs shorter than a quarter of it.
	const samples = 4
	period := max(s.timeout/samples, time.Microsecond)
	if s.timer == nil {
		s.timer = time.NewTimer(period)
	} else {
		s.timer.Reset(period)
	}
	defer s.timer.Stop()
	last, stale := uint64(0), 0 // 0 is even, so it never matches a live step
	for {
		select {
		case err := <-s.result:
			return err
		case <-s.timer.C:
		}
		v := s.step.Load()
		if v&1 == 0 || v != last {
			last, stale = v, 0
		} else {
			stale++
		}
		// v was already odd when first seen, so an unchanged odd value
		// samples periods later means one step has run at least timeout.
		if stale >= samples && s.step.CompareAndSwap(v, v|abandonedBit) {
			s.stuck = s.cur
			return &DeadlockError{Name: s.cur.name, Timeout: s.timeout, Stack: runawayStack(s.label)}
		}
		s.timer.Reset(period)
	}
}

// enter marks the start of user code (a condition or a coroutine).
func (s *Scheduler) enter() { s.step.Add(1) }

// leave marks its end and reports whether Run abandoned the driver
// meanwhile, in which case the driver must not touch shared state again.
func (s *Scheduler) leave() bool { return s.step.Add(1)&abandonedBit != 0 }

type drivePhase uint8

const (
	phaseRunning drivePhase = iota
	phaseDone
	phaseAbandoned
)

// drive is the body of a Run: the passes over the coroutines.
func (s *Scheduler) drive() {
	if s.labels != nil {
		// Coroutine goroutines are created by the driver and inherit this.
		pprof.SetGoroutineLabels(s.labels)
	}
	phase := phaseRunning
	var err error
	defer func() {
		switch phase {
		case phaseDone:
			s.result <- err
			return
		case phaseAbandoned:
			return // Run has already returned a DeadlockError
		}
		// User code failed on this goroutine: a condition panicked, or a
		// coroutine called runtime.Goexit and iter.Pull propagated it.
		r := recover()
		co := s.cur
		if s.leave() {
			phase = phaseAbandoned
			s.abandon(co)
			return
		}
		pe := &PanicError{Name: co.name, Value: r, Stack: string(debug.Stack())}
		if r == nil {
			pe.Value = ErrGoexit
		}
		s.result <- pe
	}()

	for {
		progress, dirty := false, false
		// Index loop: coroutines created during the pass are appended and
		// visited in this same pass.
		for i := 0; i < len(s.coros); i++ {
			co := s.coros[i]
			s.cur = co
			s.enter()
			if co.state == stateBlocked && !co.cond() {
				if s.leave() {
					phase = phaseAbandoned
					s.abandon(co)
					return
				}
				continue
			}
			s.resume(co)
			if s.leave() {
				phase = phaseAbandoned
				s.abandon(co)
				return
			}
			progress = true
			if co.state == stateDone {
				s.live--
				dirty = true
				if co.panicErr != nil {
					err = co.panicErr
					s.compact()
					phase = phaseDone
					return
				}
			}
		}
		if dirty {
			s.compact()
		}
		if !progress {
			phase = phaseDone
			return
		}
	}
}

// resume runs co until it blocks or finishes.
func (s *Scheduler) resume(co *Coroutine) {
	co.cond = nil
	co.state = stateRunning
	s.running = co
	if co.next == nil {
		co.next, co.stop = iter.Pull(co.body)
	}
	_, alive := co.next()
	s.running = nil
	if !alive {
		co.release()
	}
}

// compact removes finished coroutines, keeping creation order.
func (s *Scheduler) compact() {
	j := 0
	for _, co := range s.coros {
		if co.state != stateDone {
			s.coros[j] = co
			j++
		}
	}
	clear(s.coros[j:])
	s.coros = s.coros[:j]
}

// abandon is run by a driver that Run gave up on, once the runaway user
// code returns. It owns only co now; it unwinds it so that no goroutine
// outlives the scheduler.
func (s *Scheduler) abandon(co *Coroutine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	co.unwinding = true
	if co.stop != nil {
		co.stop()
	}
}

// Close unwinds every unfinished coroutine: Block panics with a private
// value recovered at the top of the coroutine, so deferred functions in
// workflow code run and the goroutine exits. Deferred code must not block:
// a Block whose condition is false panics again (and code that recovers the
// unwind panic and blocks again in a loop keeps Close from returning).
// Coroutines that never started are dropped. After a DeadlockError the
// runaway coroutine cannot be interrupted; its abandoned driver unwinds it
// when it next blocks. Close is idempotent and must not be called from a
// coroutine.
func (s *Scheduler) Close() {
	if s.closed {
		return
	}
	if s.inRun {
		panic("coro: Close called from inside a coroutine")
	}
	s.closed = true
	started := false
	for _, co := range s.coros {
		if co != s.stuck && co.next != nil {
			started = true
			break
		}
	}
	if !started {
		clear(s.coros)
		s.coros, s.live = nil, 0
		return
	}
	// Unwinding runs workflow code, which might call runtime.Goexit; doing
	// it on a goroutine of our own keeps that from killing the caller.
	done := make(chan struct{})
	go s.unwindAll(done)
	<-done
	s.live = 0
}

// unwindAll unwinds the coroutines in creation order. If deferred workflow
// code calls runtime.Goexit, the goroutine dies and a new one carries on
// with the rest.
func (s *Scheduler) unwindAll(done chan struct{}) {
	s.mu.Lock()
	finished := false
	defer func() {
		s.mu.Unlock()
		if finished {
			close(done)
		} else {
			go s.unwindAll(done)
		}
	}()
	for len(s.coros) > 0 {
		co := s.coros[0]
		s.coros[0] = nil
		s.coros = s.coros[1:]
		if co == s.stuck || co.state == stateDone {
			continue // the stuck one belongs to its abandoned driver
		}
		if co.stop != nil {
			co.unwinding = true
			co.stop()
		}
		co.release()
	}
	s.coros = nil
	finished = true
}
