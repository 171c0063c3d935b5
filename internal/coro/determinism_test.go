package coro

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// tracedProgram runs ten coroutines that exchange values through unbuffered
// and buffered channels, selectors, futures set by the "engine" between
// Runs, a WaitGroup and nested coroutines, and returns the interleaving.
func tracedProgram(t *testing.T) []string {
	var r recorder
	s := NewScheduler()
	defer s.Close()

	work := NewChannel(0)    // producers -> workers, rendezvous
	results := NewChannel(3) // workers -> collector, buffered
	timers := []*Future{NewFuture(), NewFuture(), NewFuture()}
	var producers WaitGroup

	for p := range 4 {
		producers.Add(1)
		s.Go(fmt.Sprintf("producer-%d", p), func(co *Coroutine) {
			defer producers.Done()
			for i := range 5 {
				work.Send(co, p*100+i)
				r.add("p%d sent %d", p, p*100+i)
			}
		})
	}
	for w := range 3 {
		s.Go(fmt.Sprintf("worker-%d", w), func(co *Coroutine) {
			done := false
			sel := NewSelector().
				AddReceive(work, func(v any, ok bool) {
					if !ok {
						done = true
						return
					}
					r.add("w%d got %v", w, v)
					results.Send(co, v.(int)*2)
				}).
				AddFuture(timers[w], func(f *Future) {
					v, _ := f.Get(co)
					r.add("w%d timer %v", w, v)
				})
			for !done {
				sel.Select(co)
			}
			r.add("w%d done", w)
		})
	}
	s.Go("closer", func(co *Coroutine) {
		producers.Wait(co)
		r.add("closing work")
		work.Close()
	})
	s.Go("collector", func(co *Coroutine) {
		sum := 0
		for range 20 {
			v, _ := results.Receive(co)
			sum += v.(int)
			r.add("sum %d", sum)
		}
		r.add("collected %d", sum)
	})
	s.Go("spawner", func(co *Coroutine) {
		ready := NewFuture()
		for i := range 3 {
			co.Scheduler().Go("child", func(co *Coroutine) {
				r.add("child %d", i)
				if i == 2 {
					ready.Set(i, nil)
				}
			})
		}
		v, _ := ready.Get(co)
		r.add("spawner resumed by child %v", v)
	})

	for i := 0; !s.Done(); i++ {
		if i == 10 {
			t.Fatalf("program did not finish; trace %q", r.events)
		}
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		r.add("-- run %d returned, %d live", i, s.Len())
		if i < len(timers) {
			timers[i].Set(fmt.Sprintf("t%d", i), nil) // engine delivers an event
		}
	}
	return r.events
}

func TestDeterministicInterleaving(t *testing.T) {
	first := tracedProgram(t)
	if !slices.Contains(first, "collected 6080") || !slices.Contains(first, "w2 done") {
		t.Fatalf("program did not do its work: %q", first)
	}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for i := range 100 {
		// Vary the Go scheduler underneath; the trace must not notice.
		runtime.GOMAXPROCS(1 + i%max(procs, 4))
		if got := tracedProgram(t); !slices.Equal(got, first) {
			t.Fatalf("iteration %d diverged:\n got  %q\n want %q", i, got, first)
		}
	}
	t.Logf("%d events, identical over 101 runs", len(first))
}
