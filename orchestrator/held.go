package orchestrator

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The workflow task consumers' ack wait is short (DefaultAckWait), so that
// the messages a dead worker held come back to another worker within
// seconds. A live worker may hold a message longer (a long queue in front
// of a busy shard, a slow commit); it tells the server it is still working
// on every message it has held for half the ack wait, so none is
// redelivered from under it.

// holder keeps the inbox messages a worker has received and not yet
// settled.
type holder struct {
	mu   sync.Mutex
	msgs map[*heldMsg]struct{}
}

func newHolder() *holder { return &holder{msgs: map[*heldMsg]struct{}{}} }

// heldMsg is an inbox message while the worker holds it: settling it (ack,
// nak, term) lets it go.
type heldMsg struct {
	jetstream.Msg
	h *holder
	// since is when the server last heard about the message from us,
	// guarded by h.mu.
	since time.Time
}

// hold wraps m so that the holder keeps it alive until it is settled.
func (h *holder) hold(m jetstream.Msg) jetstream.Msg {
	hm := &heldMsg{Msg: m, h: h, since: time.Now()}
	h.mu.Lock()
	h.msgs[hm] = struct{}{}
	h.mu.Unlock()
	return hm
}

func (m *heldMsg) release() {
	m.h.mu.Lock()
	delete(m.h.msgs, m)
	m.h.mu.Unlock()
}

func (m *heldMsg) Ack() error { m.release(); return m.Msg.Ack() }

func (m *heldMsg) DoubleAck(ctx context.Context) error { m.release(); return m.Msg.DoubleAck(ctx) }

func (m *heldMsg) Nak() error { m.release(); return m.Msg.Nak() }

func (m *heldMsg) NakWithDelay(d time.Duration) error { m.release(); return m.Msg.NakWithDelay(d) }

func (m *heldMsg) Term() error { m.release(); return m.Msg.Term() }

func (m *heldMsg) TermWithReason(r string) error { m.release(); return m.Msg.TermWithReason(r) }

// keepAlive sends a progress notice for every message held for at least
// after, each time it is called.
func (h *holder) keepAlive(now time.Time, after time.Duration) {
	var due []*heldMsg
	h.mu.Lock()
	for m := range h.msgs {
		if now.Sub(m.since) >= after {
			m.since = now
			due = append(due, m)
		}
	}
	h.mu.Unlock()
	for _, m := range due {
		_ = m.Msg.InProgress()
	}
}

// run keeps the held messages alive until ctx ends.
func (h *holder) run(ctx context.Context, ackWait time.Duration) {
	tick := time.NewTicker(ackWait / 5)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			h.keepAlive(now, ackWait/2)
		}
	}
}

// len returns the number of messages held.
func (h *holder) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.msgs)
}

// handBack returns every message still held to the server for immediate
// redelivery: the worker stops, and the partitions' new owners should not
// wait out the ack wait.
func (h *holder) handBack() {
	h.mu.Lock()
	all := make([]*heldMsg, 0, len(h.msgs))
	for m := range h.msgs {
		all = append(all, m)
	}
	h.msgs = map[*heldMsg]struct{}{}
	h.mu.Unlock()
	for _, m := range all {
		_ = m.Msg.Nak()
	}
}
