package coro

import (
	"runtime"
	"testing"
)

// BenchmarkPingPong: two coroutines exchange 1e5 values over a pair of
// unbuffered channels (each value is one round trip, two switches).
func BenchmarkPingPong(b *testing.B) {
	const n = 100_000
	b.ReportAllocs()
	for b.Loop() {
		s := NewScheduler()
		ping, pong := NewChannel(0), NewChannel(0)
		s.Go("ping", func(co *Coroutine) {
			for i := range n {
				ping.Send(co, i)
				pong.Receive(co)
			}
			ping.Close()
		})
		s.Go("pong", func(co *Coroutine) {
			for {
				v, ok := ping.Receive(co)
				if !ok {
					return
				}
				pong.Send(co, v)
			}
		})
		if err := s.Run(); err != nil || !s.Done() {
			b.Fatal(err, s.Done())
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
}

// BenchmarkSpawn: 1e4 coroutines that finish immediately.
func BenchmarkSpawn(b *testing.B) {
	const n = 10_000
	b.ReportAllocs()
	body := func(*Coroutine) {}
	for b.Loop() {
		s := NewScheduler()
		for range n {
			s.Go("c", body)
		}
		if err := s.Run(); err != nil || !s.Done() {
			b.Fatal(err, s.Done())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/coroutine")
}

// BenchmarkWakeByEngine is the engine's per-event path: set a future from
// outside, Run, and the waiting coroutine consumes it and blocks again.
func BenchmarkWakeByEngine(b *testing.B) {
	s := NewScheduler()
	defer s.Close()
	f := NewFuture()
	s.Go("waiter", func(co *Coroutine) {
		for {
			f.Get(co)
			f = NewFuture()
		}
	})
	if err := s.Run(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f.Set(nil, nil)
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelectLoop: a selector over a channel and a future, fed by a
// producer coroutine; measures Select's register/deregister cost.
func BenchmarkSelectLoop(b *testing.B) {
	const n = 100_000
	b.ReportAllocs()
	for b.Loop() {
		s := NewScheduler()
		ch := NewChannel(0)
		never := NewFuture()
		s.Go("producer", func(co *Coroutine) {
			for i := range n {
				ch.Send(co, i)
			}
			ch.Close()
		})
		s.Go("selector", func(co *Coroutine) {
			done := false
			sel := NewSelector().
				AddFuture(never, nil).
				AddReceive(ch, func(_ any, ok bool) { done = !ok })
			for !done {
				sel.Select(co)
			}
		})
		if err := s.Run(); err != nil || !s.Done() {
			b.Fatal(err, s.Done())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
}

// TestSwitchPathDoesNotAllocate guards the hot path: blocking on channels
// and selectors reuses per-coroutine state, so a long exchange of values
// that need no boxing allocates nothing per value.
func TestSwitchPathDoesNotAllocate(t *testing.T) {
	const n = 10_000
	s := NewScheduler()
	defer s.Close()
	ping, pong := NewChannel(0), NewChannel(0)
	never := NewFuture()
	start := NewFuture()
	s.Go("ping", func(co *Coroutine) {
		start.Get(co)
		for range n {
			ping.Send(co, true)
			pong.Receive(co)
		}
	})
	s.Go("pong", func(co *Coroutine) {
		sel := NewSelector().AddFuture(never, nil).AddReceive(ping, nil)
		for range n {
			sel.Select(co)
			pong.Send(co, false)
		}
	})
	mustRun(t, s) // start both goroutines and warm up the cached closures
	start.Set(nil, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	mustRun(t, s)
	runtime.ReadMemStats(&after)
	if !s.Done() {
		t.Fatal("not Done")
	}
	if allocs := after.Mallocs - before.Mallocs; allocs > n/100 {
		t.Fatalf("%d allocations for %d exchanges", allocs, n)
	}
}
