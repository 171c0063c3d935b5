package coro

import (
	"errors"
	"fmt"
	"testing"
)

func TestSelectorFirstReadyCaseWins(t *testing.T) {
	// Each case is described by a letter: F = ready future, f = unset
	// future, R = channel with a value, r = empty channel, S = channel with
	// room, s = full channel; D adds a default.
	tests := []struct {
		cases string
		want  string
	}{
		{"FR", "0"},
		{"RF", "0"},
		{"fR", "1"},
		{"rF", "1"},
		{"rfS", "2"},
		{"sRF", "1"},
		{"FFF", "0"},
		{"frsD", "default"},
		{"frRD", "2"},
		{"D", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.cases, func(t *testing.T) {
			s := NewScheduler()
			defer s.Close()
			sel := NewSelector()
			var got string
			for i, c := range tt.cases {
				hit := func() { got = fmt.Sprint(i) }
				switch c {
				case 'F', 'f':
					f := NewFuture()
					if c == 'F' {
						f.Set(nil, nil)
					}
					sel.AddFuture(f, func(*Future) { hit() })
				case 'R', 'r':
					ch := NewChannel(1)
					if c == 'R' {
						ch.TrySend(1)
					}
					sel.AddReceive(ch, func(any, bool) { hit() })
				case 'S', 's':
					ch := NewChannel(1)
					if c == 's' {
						ch.TrySend(1)
					}
					sel.AddSend(ch, 2, hit)
				case 'D':
					sel.AddDefault(func() { got = "default" })
				}
			}
			s.Go("select", func(co *Coroutine) { sel.Select(co) })
			mustRun(t, s)
			if got != tt.want || !s.Done() {
				t.Fatalf("selected %q (Done=%v), want %q", got, s.Done(), tt.want)
			}
		})
	}
}

func TestSelectorFutureFiresOncePerSelector(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	f1, f2 := NewFuture(), NewFuture()
	f1.Set(1, nil)
	f2.Set(2, nil)
	ch := NewChannel(0)
	sel := NewSelector().
		AddFuture(f1, func(f *Future) { v, _ := f.Get(nil); r.add("f%v", v) }).
		AddFuture(f2, func(f *Future) { v, _ := f.Get(nil); r.add("f%v", v) }).
		AddReceive(ch, func(v any, ok bool) { r.add("ch %v", v) })
	s.Go("loop", func(co *Coroutine) {
		for range 3 {
			sel.Select(co)
		}
		if sel.HasPending() {
			r.add("still pending")
		}
	})
	mustRun(t, s)
	r.check(t, "f1", "f2")
	if !ch.TrySend("x") {
		t.Fatal("selector is not waiting on the channel after futures fired")
	}
	mustRun(t, s)
	r.check(t, "f1", "f2", "ch x")
}

func TestSelectorBlocksUntilExternalSet(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	futures := []*Future{NewFuture(), NewFuture(), NewFuture()}
	sel := NewSelector()
	for i, f := range futures {
		sel.AddFuture(f, func(*Future) { r.add("future %d", i) })
	}
	s.Go("select", func(co *Coroutine) {
		for range 3 {
			sel.Select(co)
		}
	})
	mustRun(t, s)
	r.check(t)
	// Two become ready between Runs: the first added wins, then the other.
	futures[2].Set(nil, nil)
	futures[1].Set(nil, nil)
	mustRun(t, s)
	r.check(t, "future 1", "future 2")
	futures[0].Set(nil, nil)
	mustRun(t, s)
	r.check(t, "future 1", "future 2", "future 0")
	if !s.Done() {
		t.Fatal("not Done")
	}
}

func TestSelectorSelectVersusSelectRendezvous(t *testing.T) {
	// Both sides of an unbuffered channel are selectors: neither case is
	// ready on its own, yet they must meet, as they would in Go.
	s := NewScheduler()
	defer s.Close()
	var r recorder
	ch := NewChannel(0)
	never := NewFuture()
	s.Go("sender", func(co *Coroutine) {
		NewSelector().
			AddFuture(never, func(*Future) { r.add("sender: future") }).
			AddSend(ch, "hello", func() { r.add("sender: sent") }).
			Select(co)
	})
	s.Go("receiver", func(co *Coroutine) {
		NewSelector().
			AddFuture(never, func(*Future) { r.add("receiver: future") }).
			AddReceive(ch, func(v any, ok bool) { r.add("receiver: %v %v", v, ok) }).
			Select(co)
	})
	mustRun(t, s)
	r.check(t, "receiver: hello true", "sender: sent")
	if !s.Done() {
		t.Fatal("not Done")
	}
}

func TestSelectorWithPlainCounterparts(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	in, out := NewChannel(0), NewChannel(0)
	s.Go("select", func(co *Coroutine) {
		sel := NewSelector().
			AddReceive(in, func(v any, ok bool) { r.add("received %v", v) }).
			AddSend(out, "o", func() { r.add("sent") })
		sel.Select(co)
		sel.Select(co)
	})
	s.Go("receiver", func(co *Coroutine) {
		v, _ := out.Receive(co)
		r.add("receiver got %v", v)
	})
	s.Go("sender", func(co *Coroutine) {
		in.Send(co, "i")
		r.add("sender done")
	})
	mustRun(t, s)
	// The receiver completes the selector's send case and runs on; the
	// sender finds the selector already fired and blocks until the second
	// Select takes its value.
	r.check(t, "receiver got o", "sent", "received i", "sender done")
}

func TestSelectorDeregistersWaiters(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	ch := NewChannel(0)
	ticks := 0
	s.Go("loop", func(co *Coroutine) {
		for i := 0; i < 100; i++ {
			f := NewFuture()
			co.Scheduler().Go("tick", func(*Coroutine) { f.Set(nil, nil) })
			NewSelector().
				AddReceive(ch, func(any, bool) { t.Error("received") }).
				AddFuture(f, func(*Future) { ticks++ }).
				Select(co)
		}
	})
	mustRun(t, s)
	if ticks != 100 {
		t.Fatalf("ticks = %d", ticks)
	}
	if n := len(ch.recvq.ws); n != 0 {
		t.Fatalf("%d stale waiters left on the channel", n)
	}
	if ch.TrySend(1) {
		t.Fatal("TrySend matched a selector that already returned")
	}
}

func TestSelectorClosedChannels(t *testing.T) {
	t.Run("receive on closed", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		var r recorder
		ch := NewChannel(0)
		s.Go("select", func(co *Coroutine) {
			NewSelector().AddReceive(ch, func(v any, ok bool) { r.add("%v %v", v, ok) }).Select(co)
		})
		mustRun(t, s)
		ch.Close()
		mustRun(t, s)
		r.check(t, "<nil> false")
	})
	t.Run("send case panics when closed while blocked", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		ch := NewChannel(0)
		s.Go("select", func(co *Coroutine) {
			NewSelector().AddSend(ch, 1, nil).Select(co)
		})
		mustRun(t, s)
		ch.Close()
		if pe := runPanic(t, s); !errors.Is(pe, errSendOnClosed) {
			t.Fatalf("got %v", pe)
		}
	})
	t.Run("send case on closed panics", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		ch := NewChannel(1)
		ch.Close()
		s.Go("select", func(co *Coroutine) {
			NewSelector().AddSend(ch, 1, nil).Select(co)
		})
		if pe := runPanic(t, s); !errors.Is(pe, errSendOnClosed) {
			t.Fatalf("got %v", pe)
		}
	})
}

func TestSelectorHasPending(t *testing.T) {
	ready := NewFuture()
	ready.Set(nil, nil)
	full := NewChannel(1)
	full.TrySend(1)
	closed := NewChannel(0)
	closed.Close()
	tests := []struct {
		name string
		sel  *Selector
		want bool
	}{
		{"empty", NewSelector(), false},
		{"default only", NewSelector().AddDefault(nil), false},
		{"unset future", NewSelector().AddFuture(NewFuture(), nil), false},
		{"ready future", NewSelector().AddFuture(ready, nil), true},
		{"empty channel", NewSelector().AddReceive(NewChannel(1), nil), false},
		{"buffered value", NewSelector().AddReceive(full, nil), true},
		{"closed channel", NewSelector().AddReceive(closed, nil), true},
		{"send with room", NewSelector().AddSend(NewChannel(1), 1, nil), true},
		{"send without room", NewSelector().AddSend(full, 1, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sel.HasPending(); got != tt.want {
				t.Fatalf("HasPending = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("spent future", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		sel := NewSelector().AddFuture(ready, nil)
		s.Go("select", func(co *Coroutine) { sel.Select(co) })
		mustRun(t, s)
		if sel.HasPending() {
			t.Fatal("future that already fired is still pending")
		}
	})
}

func TestSelectorTwoDefaultsPanics(t *testing.T) {
	if panicValue(func() { NewSelector().AddDefault(nil).AddDefault(nil) }) == nil {
		t.Fatal("no panic")
	}
}

// TestSelectorCondition: a condition case fires while its condition holds,
// in the order cases were added, both when it is ready at once and when
// it becomes ready while Select blocks.
func TestSelectorCondition(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	buffered := 0
	var got []string
	s.Go("main", func(co *Coroutine) {
		sel := NewSelector()
		sel.AddCondition(func() bool { return buffered > 0 }, func() { buffered--; got = append(got, "signal") })
		f := NewFuture()
		sel.AddFuture(f, func(*Future) { got = append(got, "future") })
		sel.Select(co) // blocks: nothing ready
		f.Set(nil, nil)
		buffered = 2
		sel.Select(co) // both ready: the condition was added first
		sel.Select(co)
		sel.Select(co) // the condition no longer holds: the future
	})
	s.Go("feeder", func(co *Coroutine) { buffered = 1 })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	// The blocked Select wakes for the feeder's signal; then the condition
	// wins while it holds (added first), and the future comes last.
	if fmt.Sprint(got) != "[signal signal signal future]" {
		t.Fatalf("cases fired %v, want [signal signal signal future]", got)
	}
}
