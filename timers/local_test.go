package timers

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAtKeepsNanoseconds(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("x", 3600))
	if got, want := At(at), "@at 2026-03-04T04:06:07.123456789Z"; got != want {
		t.Fatalf("At = %q, want %q", got, want)
	}
	m := NewScheduleMsg("timer.a", "inbox.a", at, nil, []byte("x"))
	if m.Header.Get(HeaderScheduleTarget) != "inbox.a" || !strings.HasPrefix(m.Header.Get(HeaderSchedule), "@at ") {
		t.Fatalf("headers %v", m.Header)
	}
}

func TestLocalFiresInDueOrderAndHonoursRemoval(t *testing.T) {
	var mu sync.Mutex
	var fired []string
	done := make(chan struct{}, 10)
	l := NewLocal(func(k Key) {
		mu.Lock()
		fired = append(fired, k.Timer)
		mu.Unlock()
		done <- struct{}{}
	})
	defer l.Close()
	now := time.Now()
	l.Add(Key{Instance: "i", Timer: "c"}, now.Add(60*time.Millisecond))
	l.Add(Key{Instance: "i", Timer: "a"}, now.Add(20*time.Millisecond))
	l.Add(Key{Instance: "i", Timer: "b"}, now.Add(40*time.Millisecond))
	l.Add(Key{Instance: "i", Timer: "gone"}, now.Add(30*time.Millisecond))
	l.Add(Key{Instance: "j", Timer: "other"}, now.Add(30*time.Millisecond))
	l.Remove(Key{Instance: "i", Timer: "gone"})
	l.RemoveInstance("j")
	// Re-arming moves a timer.
	l.Add(Key{Instance: "i", Timer: "c"}, now.Add(50*time.Millisecond))
	for range 3 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("timers did not fire")
		}
	}
	select {
	case <-done:
		t.Fatal("a removed timer fired")
	case <-time.After(100 * time.Millisecond):
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(fired, ",") != "a,b,c" {
		t.Fatalf("fired %v, want a,b,c", fired)
	}
	if l.Len() != 0 {
		t.Fatalf("%d timers still armed", l.Len())
	}
}

func TestLocalNeverFiresEarly(t *testing.T) {
	at := time.Now().Add(30 * time.Millisecond)
	got := make(chan time.Time, 1)
	l := NewLocal(func(Key) { got <- time.Now() })
	defer l.Close()
	l.Add(Key{Timer: "x"}, at)
	select {
	case ft := <-got:
		if ft.Before(at) {
			t.Fatalf("fired %v early", at.Sub(ft))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not fire")
	}
}
