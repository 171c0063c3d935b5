package streams

import (
	"slices"
	"sort"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestSweepStrays: messages on inbox and task subjects no consumer can
// read are moved to the dead letters with their reason and removed from
// their work queue; messages a consumer reads (well-formed subjects,
// including queues and types nobody serves yet, and malformed ones the
// engine dead-letters itself) stay. A second sweep, concurrent or not,
// moves nothing again.
func TestSweepStrays(t *testing.T) {
	_, _, js := ensured(t, "ns")
	ctx := testCtx(t)
	n := NewNames("ns")
	stays := []string{
		n.InboxSubject("q", "order-1"),
		n.ClientInboxSubject("q", "order-1"),
		n.InboxSubject("nobody-serves-this", "x"),
		"cairn.ns.inbox.q.3.wrong-slot-key", // read by partition 3; the engine dead-letters it
		"cairn.ns.inbox.q.3.a.b.c",          // read by partition 3 likewise
		n.TaskSubject("q", "Charge"),
		n.TaskSubject("q", "NobodyServesThis"),
	}
	strays := []string{
		"cairn.ns.inbox.q",
		"cairn.ns.inbox.q.3",
		"cairn.ns.inbox.q.256.a",
		"cairn.ns.inbox.q.007.a",
		"cairn.ns.inbox.q.x.a",
		"cairn.ns.inbox.bad+queue.3.a",
		"cairn.ns.task.q",
		"cairn.ns.task.q.Charge.extra",
		"cairn.ns.task.q.=zz",
		"cairn.ns.task.bad+queue.Charge",
	}
	for i, subj := range append(slices.Clone(stays), strays...) {
		m := nats.NewMsg(subj)
		m.Header.Set("Cairn-Kind", "test")
		m.Data = []byte{byte(i)}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("publish %q: %v", subj, err)
		}
	}
	// Two messages on one stray subject: both go.
	if _, err := js.Publish(ctx, "cairn.ns.inbox.q.x.a", []byte("again")); err != nil {
		t.Fatal(err)
	}

	moved, err := SweepStrays(ctx, js, n)
	if err != nil {
		t.Fatal(err)
	}
	if moved != len(strays)+1 {
		t.Fatalf("moved %d, want %d", moved, len(strays)+1)
	}
	left := map[string]bool{}
	for _, stream := range []string{n.InboxStream(), n.TasksStream()} {
		s, _ := js.Stream(ctx, stream)
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(">"))
		if err != nil {
			t.Fatal(err)
		}
		for subj := range info.State.Subjects {
			left[subj] = true
		}
	}
	for _, subj := range stays {
		if !left[subj] {
			t.Errorf("%q was swept; a consumer reads it", subj)
		}
	}
	for _, subj := range strays {
		if left[subj] {
			t.Errorf("%q is still queued", subj)
		}
	}

	dead, _ := js.Stream(ctx, n.DeadLetterStream())
	info, _ := dead.Info(ctx)
	if info.State.Msgs != uint64(moved) {
		t.Fatalf("%d dead letters, want %d", info.State.Msgs, moved)
	}
	var got []string
	for seq := uint64(1); seq <= info.State.Msgs; seq++ {
		m, err := dead.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Cairn-Kind") != "test" && string(m.Data) != "again" {
			t.Errorf("dead letter %d lost the message's headers: %v", seq, m.Header)
		}
		if m.Header.Get(HeaderDeadReason) != "stray: no consumer reads subject "+m.Header.Get(HeaderDeadSubject) ||
			m.Header.Get(HeaderDeadStream) == "" || m.Header.Get(HeaderDeadSeq) == "" {
			t.Errorf("dead letter %d: %v", seq, m.Header)
		}
		got = append(got, m.Header.Get(HeaderDeadSubject))
	}
	sort.Strings(got)
	want := append(slices.Clone(strays), "cairn.ns.inbox.q.x.a")
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("dead letters of %v, want %v", got, want)
	}

	if moved, err := SweepStrays(ctx, js, n); err != nil || moved != 0 {
		t.Fatalf("second sweep: %d, %v", moved, err)
	}
}
