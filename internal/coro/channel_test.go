package coro

import (
	"errors"
	"fmt"
	"testing"
)

func TestUnbufferedSendBlocksUntilReceived(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	ch := NewChannel(0)
	s.Go("sender", func(co *Coroutine) {
		r.add("send start")
		ch.Send(co, "v")
		r.add("send done")
	})
	mustRun(t, s)
	// No receiver: the sender stays blocked, nothing is buffered.
	r.check(t, "send start")
	if s.Len() != 1 || ch.Len() != 0 {
		t.Fatalf("Len=%d ch.Len=%d", s.Len(), ch.Len())
	}
	s.Go("receiver", func(co *Coroutine) {
		v, ok := ch.Receive(co)
		r.add("received %v %v", v, ok)
	})
	mustRun(t, s)
	r.check(t, "send start", "received v true", "send done")
	if !s.Done() {
		t.Fatal("not Done")
	}
}

func TestUnbufferedReceiverWaitsForSender(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	ch := NewChannel(0)
	s.Go("receiver", func(co *Coroutine) {
		r.add("recv start")
		v, _ := ch.Receive(co)
		r.add("received %v", v)
	})
	s.Go("sender", func(co *Coroutine) {
		ch.Send(co, 1) // a receiver is waiting: hand-off without blocking
		r.add("sent")
	})
	mustRun(t, s)
	r.check(t, "recv start", "sent", "received 1")
}

func TestBufferedChannel(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	ch := NewChannel(2)
	s.Go("sender", func(co *Coroutine) {
		for i := 1; i <= 3; i++ {
			ch.Send(co, i)
			r.add("sent %d", i)
		}
	})
	mustRun(t, s)
	r.check(t, "sent 1", "sent 2")
	if ch.Len() != 2 || ch.Cap() != 2 {
		t.Fatalf("Len=%d Cap=%d", ch.Len(), ch.Cap())
	}
	s.Go("receiver", func(co *Coroutine) {
		for range 3 {
			v, _ := ch.Receive(co)
			r.add("got %v", v)
		}
	})
	mustRun(t, s)
	// The first receive frees a slot that the blocked sender's value
	// fills at once, so order is preserved.
	r.check(t, "sent 1", "sent 2", "got 1", "got 2", "got 3", "sent 3")
}

func TestChannelFIFO(t *testing.T) {
	for _, capacity := range []int{0, 1} {
		t.Run(fmt.Sprintf("blocked senders cap %d", capacity), func(t *testing.T) {
			s := NewScheduler()
			defer s.Close()
			var r recorder
			ch := NewChannel(capacity)
			for i := range 4 {
				s.Go("sender", func(co *Coroutine) { ch.Send(co, i) })
			}
			mustRun(t, s)
			s.Go("receiver", func(co *Coroutine) {
				for range 4 {
					v, _ := ch.Receive(co)
					r.add("%v", v)
				}
			})
			mustRun(t, s)
			r.check(t, "0", "1", "2", "3")
		})
		t.Run(fmt.Sprintf("blocked receivers cap %d", capacity), func(t *testing.T) {
			s := NewScheduler()
			defer s.Close()
			var r recorder
			ch := NewChannel(capacity)
			for i := range 4 {
				s.Go("receiver", func(co *Coroutine) {
					v, _ := ch.Receive(co)
					r.add("r%d got %v", i, v)
				})
			}
			mustRun(t, s)
			for i := range 4 {
				if !ch.TrySend(i * 10) { // from outside, between Runs
					t.Fatalf("TrySend %d failed with receivers waiting", i)
				}
			}
			mustRun(t, s)
			r.check(t, "r0 got 0", "r1 got 10", "r2 got 20", "r3 got 30")
		})
	}
}

func TestChannelClose(t *testing.T) {
	t.Run("buffered values survive close", func(t *testing.T) {
		ch := NewChannel(2)
		ch.TrySend(1)
		ch.TrySend(2)
		ch.Close()
		var got []string
		for range 4 {
			v, ok, ready := ch.TryReceive()
			got = append(got, fmt.Sprint(v, ok, ready))
		}
		want := []string{"1 true true", "2 true true", "<nil> false true", "<nil> false true"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("blocked receivers see close", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		var r recorder
		ch := NewChannel(0)
		for i := range 2 {
			s.Go("receiver", func(co *Coroutine) {
				v, ok := ch.Receive(co)
				r.add("r%d %v %v", i, v, ok)
			})
		}
		mustRun(t, s)
		ch.Close()
		mustRun(t, s)
		r.check(t, "r0 <nil> false", "r1 <nil> false")
	})
	t.Run("blocked sender panics", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		ch := NewChannel(0)
		s.Go("sender", func(co *Coroutine) { ch.Send(co, 1) })
		mustRun(t, s)
		ch.Close()
		pe := runPanic(t, s)
		if pe.Name != "sender" || !errors.Is(pe, errSendOnClosed) {
			t.Fatalf("got %v", pe)
		}
	})
	panics := []struct {
		name string
		fn   func(ch *Channel)
		want error
	}{
		{"TrySend on closed", func(ch *Channel) { ch.TrySend(1) }, errSendOnClosed},
		{"close of closed", func(ch *Channel) { ch.Close() }, errCloseOfClosed},
	}
	for _, tt := range panics {
		t.Run(tt.name, func(t *testing.T) {
			ch := NewChannel(1)
			ch.Close()
			if r := panicValue(func() { tt.fn(ch) }); r != tt.want {
				t.Fatalf("panic %v, want %v", r, tt.want)
			}
		})
	}
	t.Run("Send on closed in coroutine", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		ch := NewChannel(1)
		ch.Close()
		s.Go("sender", func(co *Coroutine) { ch.Send(co, 1) })
		if pe := runPanic(t, s); !errors.Is(pe, errSendOnClosed) {
			t.Fatalf("got %v", pe)
		}
	})
}

func TestChannelTryOperations(t *testing.T) {
	type result struct {
		v         any
		ok, ready bool
	}
	tests := []struct {
		name     string
		capacity int
		setup    func(ch *Channel)
		trySend  bool
		tryRecv  result
	}{
		{"unbuffered empty", 0, func(*Channel) {}, false, result{nil, false, false}},
		{"buffered empty", 1, func(*Channel) {}, true, result{nil, false, false}},
		{"buffered full", 1, func(ch *Channel) { ch.TrySend("x") }, false, result{"x", true, true}},
		{"closed empty", 1, func(ch *Channel) { ch.Close() }, false, result{nil, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := NewChannel(tt.capacity)
			tt.setup(ch)
			if !ch.closed {
				if got := ch.TrySend("y"); got != tt.trySend {
					t.Fatalf("TrySend = %v, want %v", got, tt.trySend)
				}
				if tt.trySend {
					ch.TryReceive() // undo
				}
			}
			v, ok, ready := ch.TryReceive()
			if got := (result{v, ok, ready}); got != tt.tryRecv {
				t.Fatalf("TryReceive = %+v, want %+v", got, tt.tryRecv)
			}
		})
	}
	t.Run("unbuffered with blocked sender", func(t *testing.T) {
		s := NewScheduler()
		defer s.Close()
		ch := NewChannel(0)
		s.Go("sender", func(co *Coroutine) { ch.Send(co, 7) })
		mustRun(t, s)
		if v, ok, ready := ch.TryReceive(); v != 7 || !ok || !ready {
			t.Fatalf("TryReceive = %v %v %v", v, ok, ready)
		}
		mustRun(t, s)
		if !s.Done() {
			t.Fatal("sender still blocked after its value was taken")
		}
	})
}

func TestNegativeCapacityPanics(t *testing.T) {
	if panicValue(func() { NewChannel(-1) }) == nil {
		t.Fatal("no panic")
	}
}

func TestFutureGetWhenReady(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	f := NewFuture()
	f.Set("v", nil)
	var r recorder
	s.Go("a", func(co *Coroutine) {
		v, err := f.Get(co)
		r.add("a %v %v", v, err)
	})
	s.Go("b", func(co *Coroutine) { r.add("b") })
	mustRun(t, s)
	r.check(t, "a v <nil>", "b") // no yield on a ready future
}

func TestFutureSetFromCoroutine(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	f := NewFuture()
	for i := range 3 {
		s.Go("waiter", func(co *Coroutine) {
			v, _ := f.Get(co)
			r.add("w%d %v", i, v)
		})
	}
	s.Go("setter", func(co *Coroutine) {
		f.Set("x", nil)
		r.add("set")
	})
	mustRun(t, s)
	r.check(t, "set", "w0 x", "w1 x", "w2 x")
}

func TestWaitGroup(t *testing.T) {
	s := NewScheduler()
	defer s.Close()
	var r recorder
	var wg WaitGroup
	gate := NewFuture()
	s.Go("main", func(co *Coroutine) {
		wg.Wait(co) // zero: returns at once
		for i := range 3 {
			wg.Add(1)
			co.Scheduler().Go("worker", func(co *Coroutine) {
				defer wg.Done()
				gate.Get(co)
				r.add("worker %d", i)
			})
		}
		wg.Wait(co)
		r.add("all done")
	})
	mustRun(t, s)
	r.check(t)
	gate.Set(nil, nil)
	mustRun(t, s)
	r.check(t, "worker 0", "worker 1", "worker 2", "all done")
	if panicValue(func() { wg.Done() }) == nil {
		t.Fatal("negative counter did not panic")
	}
}
