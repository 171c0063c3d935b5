package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/streams"
)

// newProcEnv is newEnv with the worker in n separate processes (proc.go):
// this process holds only the server and the client. It returns once every
// process serves the queue and the partitions are placed (settle).
func newProcEnv(ctx context.Context, m mode, n int) (*env, error) {
	e, err := newEnv(ctx, m, nil)
	if err != nil {
		return nil, err
	}
	if e.members, err = watchMembers(e.nc); err != nil {
		e.close()
		return nil, err
	}
	for range n {
		if err := e.addProc(ctx); err != nil {
			e.close()
			return nil, err
		}
	}
	if e.client, err = e.newClient(ctx); err != nil {
		e.close()
		return nil, err
	}
	if err := e.settle(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// addProc starts one more worker process.
func (e *env) addProc(ctx context.Context) error {
	e.nextProc++
	p, err := startWorkerProc(ctx, e.url, fmt.Sprintf("cairn-bench-worker-%d", e.nextProc), e.mode.replicas)
	if err != nil {
		return err
	}
	e.procs = append(e.procs, p)
	return nil
}

// killOldest SIGKILLs the oldest worker process and returns when it is gone,
// with the time the signal was sent.
func (e *env) killOldest() time.Time {
	p := e.procs[0]
	e.procs = e.procs[1:]
	t := time.Now()
	p.kill()
	return t
}

// procStats sums the counters of the running worker processes.
func (e *env) procStats(ctx context.Context) (procStats, error) {
	sum := procStats{}
	for _, p := range e.procs {
		st, err := p.stats(ctx)
		if err != nil {
			return nil, err
		}
		sum.add(st)
	}
	return sum, nil
}

// stopProcs stops every worker process gracefully and sums their final
// counters.
func (e *env) stopProcs(ctx context.Context) (procStats, error) {
	sum := procStats{}
	var first error
	for _, p := range e.procs {
		st, err := p.stop(ctx)
		if err != nil && first == nil {
			first = err
		}
		sum.add(st)
	}
	e.procs = nil
	return sum, first
}

// settle waits until the queue's members are exactly the running worker
// processes and each of them has announced itself twice since: by then
// every worker has heard every other (announcements are broadcast, one a
// second) and has released the partitions the placement gives to another,
// whose waiting pulls the server pins at once. A killed process counts as
// gone once it has been silent for twice the announcement interval.
func (e *env) settle(ctx context.Context) error {
	want := len(e.procs)
	var mark map[string]int
	for {
		live := e.members.live(2 * time.Second)
		if len(live) != want {
			mark = nil
		} else if mark == nil {
			mark = live
		} else {
			done := true
			for id, n := range live {
				if n < mark[id]+2 {
					done = false
				}
			}
			if done {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("partitions not placed among %d workers (heard %d): %w", want, len(live), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// members follows the announcements of the bench queue's workflow workers
// (core NATS, docs/design/engine.md: every second, Cairn-Member: <id>,
// Cairn-Member-Leave: 1 when a worker stops).
type members struct {
	sub  *nats.Subscription
	mu   sync.Mutex
	seen map[string]*memberSeen
}

type memberSeen struct {
	n    int
	last time.Time
	left bool
}

func watchMembers(nc *nats.Conn) (*members, error) {
	m := &members{seen: map[string]*memberSeen{}}
	var err error
	m.sub, err = nc.Subscribe(streams.NewNames("default").MembersSubject(benchQueue), func(msg *nats.Msg) {
		id := msg.Header.Get("Cairn-Member")
		if id == "" {
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		s := m.seen[id]
		if s == nil {
			s = &memberSeen{}
			m.seen[id] = s
		}
		s.n++
		s.last = time.Now()
		s.left = s.left || msg.Header.Get("Cairn-Member-Leave") != ""
	})
	return m, err
}

// live returns the members heard within ttl that have not left, with how
// many announcements of each were heard.
func (m *members) live(ttl time.Duration) map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for id, s := range m.seen {
		if !s.left && time.Since(s.last) < ttl {
			out[id] = s.n
		}
	}
	return out
}

func (m *members) close() { _ = m.sub.Unsubscribe() }

// queueState is what the server says about the bench queue's workflow
// tasks, summed over its partition consumers.
type queueState struct {
	// delivered counts every delivery, redeliveries included (the
	// consumers' sequence).
	delivered uint64
	// removed counts the inbox stream's messages stored and then removed
	// (LastSeq − Msgs). The stream is a work queue, so an acknowledged
	// task message is removed; so is a fired timer schedule or a purged
	// one, which no task consumer sees.
	removed uint64
	// pending are messages not yet delivered, ackPending delivered and not
	// yet acknowledged.
	pending    uint64
	ackPending int
}

func (e *env) queueState(ctx context.Context) (queueState, error) {
	var q queueState
	names := streams.NewNames("default")
	s, err := e.js.Stream(ctx, names.InboxStream())
	if err != nil {
		return q, err
	}
	prefix := strings.TrimSuffix(names.OrchestratorConsumer(benchQueue, 0), "0")
	l := s.ListConsumers(ctx)
	for ci := range l.Info() {
		if !strings.HasPrefix(ci.Name, prefix) {
			continue
		}
		q.delivered += ci.Delivered.Consumer
		q.pending += ci.NumPending
		q.ackPending += ci.NumAckPending
	}
	if err := l.Err(); err != nil {
		return q, err
	}
	si, err := s.Info(ctx)
	if err != nil {
		return q, err
	}
	q.removed = si.State.LastSeq - si.State.Msgs
	return q, nil
}

// quiet waits until every workflow task message of the queue has been
// delivered and acknowledged, and returns the state then.
func (e *env) quiet(ctx context.Context) (queueState, error) {
	for {
		q, err := e.queueState(ctx)
		if err != nil {
			return q, err
		}
		if q.pending == 0 && q.ackPending == 0 {
			return q, nil
		}
		select {
		case <-ctx.Done():
			return q, fmt.Errorf("workflow tasks still pending (%d) or unacknowledged (%d): %w", q.pending, q.ackPending, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// redeliveries between two quiet states: deliveries beyond the first one
// of each task message. It assumes that every message removed from the
// inbox stream in between was a task message (no timer schedule fired or
// purged), which holds for workflows without timers.
func redeliveries(a, b queueState) int64 {
	return int64(b.delivered-a.delivered) - int64(b.removed-a.removed)
}

// advisories counts the server's negative acknowledgements of workflow task
// messages and records when a partition consumer was pinned to a worker
// ($JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED and .PINNED of the inbox stream).
type advisories struct {
	subs []*nats.Subscription
	mu   sync.Mutex
	naks int
	pins []pinEvent
}

type pinEvent struct {
	at       time.Time
	consumer string
}

func (e *env) watchAdvisories() (*advisories, error) {
	a := &advisories{}
	stream := streams.NewNames("default").InboxStream()
	nak, err := e.nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED."+stream+".*", func(*nats.Msg) {
		a.mu.Lock()
		a.naks++
		a.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	a.subs = append(a.subs, nak)
	pin, err := e.nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.PINNED."+stream+".*", func(m *nats.Msg) {
		at := time.Now()
		consumer := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
		a.mu.Lock()
		a.pins = append(a.pins, pinEvent{at, consumer})
		a.mu.Unlock()
	})
	if err != nil {
		a.close()
		return nil, err
	}
	a.subs = append(a.subs, pin)
	// The subscriptions are in place once the server has seen them.
	return a, e.nc.Flush()
}

func (a *advisories) nakCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.naks
}

// pinsSince returns the pin events at or after t: the last one and how
// many distinct consumers were pinned.
func (a *advisories) pinsSince(t time.Time) (last time.Time, consumers int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]bool{}
	for _, p := range a.pins {
		if !p.at.Before(t) {
			seen[p.consumer] = true
			if p.at.After(last) {
				last = p.at
			}
		}
	}
	return last, len(seen)
}

func (a *advisories) close() {
	for _, s := range a.subs {
		_ = s.Unsubscribe()
	}
}
