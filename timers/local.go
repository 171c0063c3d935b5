package timers

import (
	"container/heap"
	"sync"
	"time"
)

// Key identifies a timer armed in a Local.
type Key struct {
	Instance string
	Run      string
	Timer    string
}

// Local fires near-due timers in-process, on time, by calling fire from its
// own goroutine. It is the fast path in front of the durable schedules: it
// holds nothing that is not also scheduled in JetStream, so losing it (a
// crash) only makes timers late, never lost.
type Local struct {
	fire func(Key)

	mu      sync.Mutex
	h       timerHeap
	index   map[Key]*item
	wake    chan struct{}
	closed  bool
	stopped chan struct{}
}

type item struct {
	key Key
	at  time.Time
	idx int
}

// NewLocal starts a Local that calls fire for each due timer.
func NewLocal(fire func(Key)) *Local {
	l := &Local{fire: fire, index: map[Key]*item{}, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go l.loop()
	return l
}

// Add arms (or re-arms) the timer k to fire at at.
func (l *Local) Add(k Key, at time.Time) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	if it, ok := l.index[k]; ok {
		it.at = at
		heap.Fix(&l.h, it.idx)
	} else {
		it := &item{key: k, at: at}
		l.index[k] = it
		heap.Push(&l.h, it)
	}
	l.mu.Unlock()
	l.poke()
}

// Remove disarms timer k, if armed.
func (l *Local) Remove(k Key) {
	l.mu.Lock()
	if it, ok := l.index[k]; ok {
		heap.Remove(&l.h, it.idx)
		delete(l.index, k)
	}
	l.mu.Unlock()
}

// RemoveInstance disarms every timer of an instance (evicted or closed).
func (l *Local) RemoveInstance(instance string) {
	l.mu.Lock()
	for k, it := range l.index {
		if k.Instance == instance {
			heap.Remove(&l.h, it.idx)
			delete(l.index, k)
		}
	}
	l.mu.Unlock()
}

// Len returns the number of armed timers.
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.index)
}

// Close stops the Local; armed timers are dropped (their schedules remain).
func (l *Local) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	l.poke()
	<-l.stopped
}

func (l *Local) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Local) loop() {
	defer close(l.stopped)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return
		}
		var due []Key
		now := time.Now()
		for len(l.h) > 0 && !l.h[0].at.After(now) {
			it := heap.Pop(&l.h).(*item)
			delete(l.index, it.key)
			due = append(due, it.key)
		}
		wait := time.Hour
		if len(l.h) > 0 {
			wait = time.Until(l.h[0].at)
		}
		l.mu.Unlock()
		for _, k := range due {
			l.fire(k)
		}
		if len(due) > 0 {
			continue
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-l.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
	}
}

type timerHeap []*item

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *timerHeap) Push(x any)        { it := x.(*item); it.idx = len(*h); *h = append(*h, it) }
func (h *timerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
