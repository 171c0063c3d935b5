package coro

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunVisitsCoroutinesInCreationOrderUntilAllBlock(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	ready := false
	s.Go("a", func(co *Coroutine) {
		r.add("a1")
		co.Block(func() bool { return ready })
		r.add("a2")
	})
	s.Go("b", func(co *Coroutine) {
		r.add("b1")
		ready = true
		r.add("b2")
	})
	s.Go("c", func(co *Coroutine) {
		r.add("c1")
		co.Block(func() bool { return false })
		r.add("never")
	})
	if s.Done() || s.Len() != 3 {
		t.Fatalf("before Run: Done=%v Len=%d", s.Done(), s.Len())
	}
	mustRun(t, s)
	// a blocks, b unblocks it, c blocks for good; the second pass resumes a.
	r.check(t, "a1", "b1", "b2", "c1", "a2")
	if s.Done() || s.Len() != 1 {
		t.Fatalf("after Run: Done=%v Len=%d, want false 1", s.Done(), s.Len())
	}
	// Nothing changed: Run is a no-op.
	mustRun(t, s)
	r.check(t, "a1", "b1", "b2", "c1", "a2")
}

func TestCoroutinesCreatedInsideRunInSamePassAfterExisting(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	s.Go("parent", func(co *Coroutine) {
		r.add("parent start")
		co.Scheduler().Go("child", func(co *Coroutine) {
			r.add("child")
			co.Scheduler().Go("grandchild", func(co *Coroutine) { r.add("grandchild") })
		})
		r.add("parent end")
	})
	s.Go("sibling", func(co *Coroutine) { r.add("sibling") })
	mustRun(t, s)
	r.check(t, "parent start", "parent end", "sibling", "child", "grandchild")
	if !s.Done() {
		t.Fatal("not Done")
	}
}

func TestGoBetweenRunsStartsAtNextRun(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	s.Go("first", func(co *Coroutine) { r.add("first") })
	mustRun(t, s)
	s.Go("second", func(co *Coroutine) { r.add("second") })
	r.check(t, "first")
	if s.Len() != 1 || s.Done() {
		t.Fatalf("Len=%d Done=%v", s.Len(), s.Done())
	}
	mustRun(t, s)
	r.check(t, "first", "second")
	if !s.Done() {
		t.Fatal("not Done")
	}
}

func TestBlockOnTrueConditionDoesNotYield(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	s.Go("a", func(co *Coroutine) {
		r.add("a1")
		co.Block(func() bool { return true })
		r.add("a2")
	})
	s.Go("b", func(co *Coroutine) { r.add("b") })
	mustRun(t, s)
	r.check(t, "a1", "a2", "b")
}

func TestExternalFutureSetResumesWaiterOnNextRun(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	f := NewFuture()
	var got any
	var gotErr error
	resumed := false
	s.Go("waiter", func(co *Coroutine) {
		got, gotErr = f.Get(co)
		resumed = true
	})
	mustRun(t, s)
	if resumed || s.Done() || f.IsReady() {
		t.Fatalf("resumed=%v Done=%v ready=%v before Set", resumed, s.Done(), f.IsReady())
	}
	// The engine sets the future between Runs, outside any coroutine.
	errBoom := errors.New("boom")
	if !f.Set(42, errBoom) {
		t.Fatal("first Set reported false")
	}
	if f.Set(43, nil) {
		t.Fatal("second Set reported true")
	}
	if resumed {
		t.Fatal("resumed by Set itself, not by Run")
	}
	mustRun(t, s)
	if !resumed || got != 42 || gotErr != errBoom || !s.Done() {
		t.Fatalf("resumed=%v got=%v,%v Done=%v", resumed, got, gotErr, s.Done())
	}
}

func TestCurrentIsRunningCoroutine(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	if s.Current() != nil {
		t.Fatal("Current outside Run is not nil")
	}
	var inCond *Coroutine
	var ok bool
	first := true
	s.Go("x", func(co *Coroutine) {
		ok = s.Current() == co && co.Name() == "x" && co.Scheduler() == s
		co.Block(func() bool {
			if first {
				first = false
				return false
			}
			inCond = s.Current()
			return true
		})
	})
	mustRun(t, s)
	if !ok {
		t.Fatal("Current, Name or Scheduler wrong inside coroutine")
	}
	if inCond != nil {
		t.Fatal("Current inside a condition evaluated by the scheduler is not nil")
	}
}

func TestPanicReturnsPanicError(t *testing.T) {
	errSentinel := errors.New("sentinel")
	tests := []struct {
		name      string
		body      func(co *Coroutine)
		wantName  string
		wantValue func(any) bool
		wantStack string
	}{
		{
			name:      "string",
			body:      func(co *Coroutine) { panickyWorkflow() },
			wantName:  "victim",
			wantValue: func(v any) bool { return v == "kaboom" },
			wantStack: "panickyWorkflow",
		},
		{
			name:      "error value unwraps",
			body:      func(co *Coroutine) { panic(errSentinel) },
			wantName:  "victim",
			wantValue: func(v any) bool { return v == errSentinel },
		},
		{
			name: "nil",
			body: func(co *Coroutine) { panic(nil) },
			wantValue: func(v any) bool {
				_, ok := v.(*runtime.PanicNilError)
				return ok
			},
			wantName: "victim",
		},
		{
			name: "after blocking",
			body: func(co *Coroutine) {
				co.Block(func() bool { return true })
				f := NewFuture()
				co.Scheduler().Go("setter", func(*Coroutine) { f.Set(nil, nil) })
				f.Get(co)
				panic("late")
			},
			wantName:  "victim",
			wantValue: func(v any) bool { return v == "late" },
		},
		{
			name: "in child coroutine",
			body: func(co *Coroutine) {
				co.Scheduler().Go("child", func(*Coroutine) { panic("child") })
				co.Block(func() bool { return false })
			},
			wantName:  "child",
			wantValue: func(v any) bool { return v == "child" },
		},
		{
			name: "in Block condition",
			body: func(co *Coroutine) {
				first := true
				co.Block(func() bool {
					if first {
						first = false
						return false
					}
					panic("cond")
				})
			},
			wantName:  "victim",
			wantValue: func(v any) bool { return v == "cond" },
			wantStack: "TestPanicReturnsPanicError",
		},
		{
			name:      "runtime.Goexit",
			body:      func(co *Coroutine) { runtime.Goexit() },
			wantName:  "victim",
			wantValue: func(v any) bool { return v == ErrGoexit },
		},
		{
			name:      "Run from coroutine",
			body:      func(co *Coroutine) { co.Scheduler().Run() },
			wantName:  "victim",
			wantValue: func(v any) bool { return strings.Contains(v.(string), "Run called from inside") },
		},
		{
			name: "Block with another coroutine",
			body: func(co *Coroutine) {
				var other *Coroutine
				co.Scheduler().Go("other", func(o *Coroutine) { other = o })
				co.Block(func() bool { return other != nil })
				other.Block(func() bool { return true })
			},
			wantName:  "victim",
			wantValue: func(v any) bool { return strings.Contains(v.(string), "Block called outside coroutine") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			s := NewScheduler()
			var deferred atomic.Int32
			s.Go("bystander", func(co *Coroutine) {
				defer deferred.Add(1)
				co.Block(func() bool { return false })
			})
			s.Go("victim", tt.body)
			pe := runPanic(t, s)
			if pe.Name != tt.wantName || !tt.wantValue(pe.Value) {
				t.Fatalf("PanicError{Name: %q, Value: %#v}, want name %q", pe.Name, pe.Value, tt.wantName)
			}
			if tt.wantStack != "" {
				contains(t, "stack", pe.Stack, tt.wantStack)
			}
			contains(t, "Error()", pe.Error(), pe.Name)
			if v, ok := pe.Value.(error); ok && !errors.Is(pe, v) {
				t.Error("PanicError does not unwrap its error value")
			}
			// Sticky: the scheduler is broken until closed.
			if err := s.Run(); err != error(pe) {
				t.Fatalf("second Run = %v, want the same PanicError", err)
			}
			s.Close()
			if deferred.Load() != 1 {
				t.Fatal("bystander's deferred function did not run on Close")
			}
			waitGoroutines(t, before)
		})
	}
}

func panickyWorkflow() { panic("kaboom") }

func TestCloseUnwindsBlockedCoroutinesWithoutLeaks(t *testing.T) {
	const n = 1000
	before := runtime.NumGoroutine()
	s := NewScheduler()
	var deferred atomic.Int32
	never := NewFuture()
	ch := NewChannel(0)
	full := NewChannel(1)
	full.TrySend(0)
	var wg WaitGroup
	wg.Add(1)
	blockers := []func(co *Coroutine){
		func(co *Coroutine) { co.Block(func() bool { return false }) },
		func(co *Coroutine) { never.Get(co) },
		func(co *Coroutine) { ch.Receive(co) },
		func(co *Coroutine) { full.Send(co, 1) },
		func(co *Coroutine) { wg.Wait(co) },
		func(co *Coroutine) {
			NewSelector().AddFuture(never, nil).AddReceive(ch, nil).AddSend(full, 2, nil).Select(co)
		},
	}
	for i := range n {
		s.Go("blocked", func(co *Coroutine) {
			defer deferred.Add(1)
			blockers[i%len(blockers)](co)
			t.Error("blocked coroutine resumed")
		})
	}
	mustRun(t, s)
	if s.Len() != n {
		t.Fatalf("Len = %d, want %d", s.Len(), n)
	}
	if got := runtime.NumGoroutine(); got < n {
		t.Fatalf("%d goroutines while blocked, want >= %d", got, n)
	}
	s.Close()
	if deferred.Load() != n {
		t.Fatalf("%d deferred functions ran, want %d", deferred.Load(), n)
	}
	if !s.Done() || s.Len() != 0 {
		t.Fatalf("after Close: Done=%v Len=%d", s.Done(), s.Len())
	}
	waitGoroutines(t, before)
	// Registrations of the unwound coroutines are stale: nobody receives.
	if ch.TrySend(1) {
		t.Fatal("TrySend matched an unwound receiver")
	}
}

func TestCloseRunsDeferredCodeThatMustNotBlock(t *testing.T) {
	before := runtime.NumGoroutine()
	s := NewScheduler()
	var r recorder
	s.Go("w", func(co *Coroutine) {
		defer r.add("outer deferred")
		defer func() {
			co.Block(func() bool { return true }) // fine: does not block
			r.add("true cond ok")
		}()
		defer func() {
			defer func() { r.add("blocking defer unwound") }()
			co.Block(func() bool { return false }) // would block: unwinds instead
			r.add("unreachable")
		}()
		defer func() { panic("ignored while unwinding") }()
		defer co.Scheduler().Go("late", func(*Coroutine) { r.add("late ran") })
		co.Block(func() bool { return false })
	})
	mustRun(t, s)
	s.Close()
	r.check(t, "blocking defer unwound", "true cond ok", "outer deferred")
	waitGoroutines(t, before)
}

func TestCloseSurvivesGoexitInDeferredCode(t *testing.T) {
	before := runtime.NumGoroutine()
	s := NewScheduler()
	var r recorder
	for i := range 3 {
		s.Go("w", func(co *Coroutine) {
			defer r.add("w%d unwound", i)
			if i == 1 {
				defer runtime.Goexit()
			}
			co.Block(func() bool { return false })
		})
	}
	mustRun(t, s)
	s.Close()
	r.check(t, "w0 unwound", "w1 unwound", "w2 unwound")
	waitGoroutines(t, before)
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	s := NewScheduler()
	ran := false
	s.Go("never started", func(*Coroutine) { ran = true })
	s.Close()
	s.Close()
	if ran {
		t.Fatal("coroutine that never started ran during Close")
	}
	if !s.Done() || s.Len() != 0 {
		t.Fatalf("Done=%v Len=%d", s.Done(), s.Len())
	}
	s.Go("after close", func(*Coroutine) { ran = true })
	if err := s.Run(); err != ErrClosed {
		t.Fatalf("Run after Close = %v, want ErrClosed", err)
	}
	if ran || s.Len() != 0 {
		t.Fatal("Go after Close added a coroutine")
	}
}

func TestBlockOutsideCoroutinePanics(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var saved *Coroutine
	s.Go("x", func(co *Coroutine) {
		saved = co
		co.Block(func() bool { return false })
	})
	mustRun(t, s)
	r := panicValue(func() { saved.Block(func() bool { return true }) })
	if r == nil || !strings.Contains(r.(string), `outside coroutine "x"`) {
		t.Fatalf("Block from outside: panic %v", r)
	}
}

func TestDeadlockDetected(t *testing.T) {
	s := NewScheduler(WithDeadlockTimeout(100 * time.Millisecond))
	defer s.Close()
	s.Go("patient", func(co *Coroutine) { co.Block(func() bool { return false }) })
	s.Go("sleeper", func(co *Coroutine) { sleepyWorkflow(2 * time.Second) })
	start := time.Now()
	err := s.Run()
	elapsed := time.Since(start)
	var de *DeadlockError
	if !errors.As(err, &de) {
		t.Fatalf("Run = %v, want *DeadlockError", err)
	}
	if elapsed < 100*time.Millisecond || elapsed > time.Second {
		t.Errorf("detected after %v, want 100ms..1s", elapsed)
	}
	if de.Name != "sleeper" || de.Timeout != 100*time.Millisecond {
		t.Errorf("DeadlockError{Name: %q, Timeout: %v}", de.Name, de.Timeout)
	}
	contains(t, "stack", de.Stack, "time.Sleep", "sleepyWorkflow")
	if strings.Contains(de.Stack, "TestDeadlockDetected.func1") {
		t.Errorf("stack includes the parked coroutine:\n%s", de.Stack)
	}
	contains(t, "Error()", de.Error(), `"sleeper"`, "100ms")
	if err2 := s.Run(); err2 != err {
		t.Fatalf("second Run = %v, want the same DeadlockError", err2)
	}
	closeStart := time.Now()
	s.Close() // must not wait for the sleeper
	if d := time.Since(closeStart); d > 500*time.Millisecond {
		t.Fatalf("Close took %v", d)
	}
}

func sleepyWorkflow(d time.Duration) { time.Sleep(d) }

func TestDeadlockedCoroutineIsUnwoundWhenItYields(t *testing.T) {
	before := runtime.NumGoroutine()
	s := NewScheduler(WithDeadlockTimeout(20 * time.Millisecond))
	var unwound, patient atomic.Bool
	s.Go("patient", func(co *Coroutine) {
		defer patient.Store(true)
		co.Block(func() bool { return false })
	})
	s.Go("sleeper", func(co *Coroutine) {
		defer unwound.Store(true)
		time.Sleep(200 * time.Millisecond)
		co.Block(func() bool { return false })
	})
	var de *DeadlockError
	if err := s.Run(); !errors.As(err, &de) {
		t.Fatalf("Run = %v, want *DeadlockError", err)
	}
	s.Close()
	if !patient.Load() {
		t.Fatal("Close did not unwind the other coroutine")
	}
	// The runaway is unwound by its abandoned driver once it blocks.
	for deadline := time.Now().Add(5 * time.Second); !unwound.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("runaway coroutine was not unwound after it yielded")
		}
	}
	waitGoroutines(t, before)
}

func TestDeadlockInBlockCondition(t *testing.T) {
	before := runtime.NumGoroutine()
	s := NewScheduler(WithDeadlockTimeout(20 * time.Millisecond))
	first := true
	s.Go("slow cond", func(co *Coroutine) {
		co.Block(func() bool {
			if first {
				first = false
				return false
			}
			sleepyCondition()
			return false
		})
	})
	err := s.Run()
	var de *DeadlockError
	if !errors.As(err, &de) || de.Name != "slow cond" {
		t.Fatalf("Run = %v, want *DeadlockError for \"slow cond\"", err)
	}
	contains(t, "stack", de.Stack, "sleepyCondition")
	s.Close()
	waitGoroutines(t, before)
}

func sleepyCondition() { time.Sleep(150 * time.Millisecond) }

func TestDeadlockStackIsolatedPerScheduler(t *testing.T) {
	// Two instances deadlock at once; each error shows only its own stack.
	run := func(d time.Duration, fn func()) *DeadlockError {
		s := NewScheduler(WithDeadlockTimeout(d))
		defer s.Close()
		s.Go("runaway", func(*Coroutine) { fn() })
		var de *DeadlockError
		errors.As(s.Run(), &de)
		return de
	}
	other := make(chan *DeadlockError)
	go func() { other <- run(20*time.Millisecond, runawayB) }()
	a := run(100*time.Millisecond, runawayA)
	b := <-other
	if a == nil || b == nil {
		t.Fatalf("errors %v, %v", a, b)
	}
	contains(t, "stack A", a.Stack, "runawayA")
	contains(t, "stack B", b.Stack, "runawayB")
	if strings.Contains(a.Stack, "runawayB") || strings.Contains(b.Stack, "runawayA") {
		t.Fatalf("stacks mixed up:\nA:\n%s\nB:\n%s", a.Stack, b.Stack)
	}
}

// The runaways block far longer than the deadlock timeouts, so that a
// loaded machine, which may run the watchdog late, still sees them stuck.
func runawayA() { time.Sleep(2 * time.Second) }
func runawayB() { time.Sleep(2 * time.Second) }

func TestDeadlockDetectionDisabled(t *testing.T) {
	s := NewScheduler(WithDeadlockTimeout(0))
	defer s.Close()
	done := false
	s.Go("slow", func(*Coroutine) {
		time.Sleep(50 * time.Millisecond)
		done = true
	})
	mustRun(t, s)
	if !done {
		t.Fatal("coroutine did not finish")
	}
}

func TestSlowButYieldingCoroutineIsNotADeadlock(t *testing.T) {
	// Each step is short; the Run as a whole is much longer than the timeout.
	s := NewScheduler(WithDeadlockTimeout(100 * time.Millisecond))
	defer s.Close()
	turn := 0
	for id := range 2 {
		s.Go("stepper", func(co *Coroutine) {
			for i := 0; i < 25; i++ {
				co.Block(func() bool { return turn%2 == id })
				time.Sleep(5 * time.Millisecond)
				turn++
			}
		})
	}
	mustRun(t, s)
	if !s.Done() {
		t.Fatal("not Done")
	}
}
