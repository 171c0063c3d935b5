package streams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cairnhq/cairn/streams/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishHistory stores count messages on subject, each preceded by noise
// messages on other subjects so that the reader has to skip them, and
// returns the sequences of the subject's messages.
func publishHistory(t *testing.T, js jetstream.JetStream, n Names, id string, count, noise int) []uint64 {
	t.Helper()
	ctx := testCtx(t)
	subj := n.HistorySubject(id)
	seqs := make([]uint64, 0, count)
	var acks []jetstream.PubAckFuture
	// Drain acks in chunks: nats.go stalls past its async pending limit.
	drain := func() {
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			t.Fatal("publish timed out")
		}
		for _, f := range acks {
			select {
			case ack := <-f.Ok():
				if f.Msg().Subject == subj {
					seqs = append(seqs, ack.Sequence)
				}
			case err := <-f.Err():
				t.Fatal(err)
			}
		}
		acks = acks[:0]
	}
	for i := range count {
		for j := range noise {
			f, err := js.PublishAsync(n.HistorySubject(fmt.Sprintf("other-%d", j)), []byte("noise"))
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, f)
		}
		msg := nats.NewMsg(subj)
		msg.Header.Set("Cairn-Run", "run-1")
		msg.Header.Set("I", strconv.Itoa(i))
		msg.Data = []byte("event-" + strconv.Itoa(i))
		f, err := js.PublishMsgAsync(msg)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, f)
		if len(acks) >= 1000 {
			drain()
		}
	}
	drain()
	return seqs
}

func checkRead(t *testing.T, got []StoredMsg, subj string, seqs []uint64, firstIndex int) {
	t.Helper()
	if len(got) != len(seqs) {
		t.Fatalf("read %d messages, want %d", len(got), len(seqs))
	}
	for k, m := range got {
		i := firstIndex + k
		if m.Seq != seqs[k] || m.Subject != subj || string(m.Data) != "event-"+strconv.Itoa(i) ||
			m.Header.Get("I") != strconv.Itoa(i) || m.Header.Get("Cairn-Run") != "run-1" {
			t.Fatalf("message %d: seq %d subj %q data %q hdr %v; want seq %d", k, m.Seq, m.Subject, m.Data, m.Header, seqs[k])
		}
		if m.Time.IsZero() || time.Since(m.Time) > time.Minute {
			t.Fatalf("message %d: time %v", k, m.Time)
		}
	}
}

func TestReadSubjectBatches(t *testing.T) {
	_, nc, js := ensured(t, "dg")
	n := NewNames("dg")
	id := "wf.big"
	const count = 2500 // more than two batches
	seqs := publishHistory(t, js, n, id, count, 3)
	subj := n.HistorySubject(id)
	ctx := testCtx(t)

	got, err := ReadSubject(ctx, nc, n.HistoryStream(), subj, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, got, subj, seqs, 0)

	// Starting in the middle, as the engine does from a run's first sequence.
	from := 1234
	got, err = ReadSubject(ctx, nc, n.HistoryStream(), subj, seqs[from])
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, got, subj, seqs[from:], from)

	// Past the end, and on a subject without messages: empty, no error.
	got, err = ReadSubject(ctx, nc, n.HistoryStream(), subj, seqs[count-1]+1)
	if err != nil || len(got) != 0 {
		t.Fatalf("past end: %d msgs, %v", len(got), err)
	}
	got, err = ReadSubject(ctx, nc, n.HistoryStream(), n.HistorySubject("nobody"), 1)
	if err != nil || len(got) != 0 {
		t.Fatalf("missing subject: %d msgs, %v", len(got), err)
	}
}

func TestLastMsg(t *testing.T) {
	_, nc, js := ensured(t, "lm")
	n := NewNames("lm")
	ctx := testCtx(t)

	_, err := LastMsg(ctx, nc, n.HistoryStream(), n.HistorySubject("none"))
	if !errors.Is(err, ErrMsgNotFound) {
		t.Fatalf("LastMsg on empty subject = %v, want ErrMsgNotFound", err)
	}

	seqs := publishHistory(t, js, n, "wf-1", 5, 2)
	m, err := LastMsg(ctx, nc, n.HistoryStream(), n.HistorySubject("wf-1"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Seq != seqs[4] || string(m.Data) != "event-4" || m.Header.Get("I") != "4" ||
		m.Subject != n.HistorySubject("wf-1") || m.Header.Get(HeaderStream) != n.HistoryStream() {
		t.Fatalf("LastMsg = %+v", m)
	}
}

func TestDirectGetUnavailable(t *testing.T) {
	_, nc, _ := ensured(t, "un")
	ctx := testCtx(t)
	if _, err := LastMsg(ctx, nc, "no-such-stream", "x"); !errors.Is(err, ErrDirectGetUnavailable) {
		t.Errorf("LastMsg on missing stream = %v", err)
	}
	if _, err := ReadSubject(ctx, nc, "no-such-stream", "x", 1); !errors.Is(err, ErrDirectGetUnavailable) {
		t.Errorf("ReadSubject on missing stream = %v", err)
	}
	// The tasks stream does not allow direct gets.
	if _, err := LastMsg(ctx, nc, NewNames("un").TasksStream(), "x"); !errors.Is(err, ErrDirectGetUnavailable) {
		t.Errorf("LastMsg without AllowDirect = %v", err)
	}
}

func TestReadSubjectContext(t *testing.T) {
	_, nc, _ := ensured(t, "cx")
	n := NewNames("cx")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadSubject(ctx, nc, n.HistoryStream(), n.HistorySubject("a"), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadSubject with canceled ctx = %v", err)
	}
	if _, err := LastMsg(ctx, nc, n.HistoryStream(), n.HistorySubject("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("LastMsg with canceled ctx = %v", err)
	}
}

// TestDirectGetAcrossRestart reads the same history before and after a
// server restart on the same directory, with the same client connection.
func TestDirectGetAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, dir)
	port := s.Port()
	reconnected := make(chan struct{}, 1)
	nc, err := Connect(s.ClientURL(), nats.ReconnectHandler(func(*nats.Conn) {
		select {
		case reconnected <- struct{}{}:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := Ensure(testCtx(t), js, "rs"); err != nil {
		t.Fatal(err)
	}
	n := NewNames("rs")
	seqs := publishHistory(t, js, n, "wf", 1100, 1)
	subj := n.HistorySubject("wf")

	s.Shutdown()
	s = startTestServer(t, dir, embedded.WithPort(port))
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("client did not reconnect")
	}

	ctx := testCtx(t)
	got, err := ReadSubject(ctx, nc, n.HistoryStream(), subj, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, got, subj, seqs, 0)
	last, err := LastMsg(ctx, nc, n.HistoryStream(), subj)
	if err != nil || last.Seq != seqs[len(seqs)-1] {
		t.Fatalf("LastMsg after restart = %+v, %v", last, err)
	}
}

func BenchmarkReadSubject(b *testing.B) {
	s := startTestServer(b, "")
	nc, js := connect(b, s.ClientURL())
	if err := Ensure(testCtx(b), js, "bench"); err != nil {
		b.Fatal(err)
	}
	n := NewNames("bench")
	subj := n.HistorySubject("wf")
	for i := range 200 {
		if _, err := js.Publish(testCtx(b), subj, []byte(strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, err := ReadSubject(ctx, nc, n.HistoryStream(), subj, 1)
		if err != nil || len(got) != 200 {
			b.Fatal(len(got), err)
		}
	}
}

// TestReadSubjectLargeMessages makes a batch stop on its byte cap rather
// than its message count, which the reader must continue the same way.
func TestReadSubjectLargeMessages(t *testing.T) {
	_, nc, js := ensured(t, "big")
	n := NewNames("big")
	subj := n.HistorySubject("wf")
	ctx := testCtx(t)
	payload := make([]byte, 1<<20)
	const count = 12 // 12 MiB, more than one 8 MiB batch
	for i := range count {
		payload[0] = byte(i)
		if _, err := js.Publish(ctx, subj, payload); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadSubject(ctx, nc, n.HistoryStream(), subj, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != count {
		t.Fatalf("read %d messages, want %d", len(got), count)
	}
	for i, m := range got {
		if len(m.Data) != len(payload) || m.Data[0] != byte(i) {
			t.Fatalf("message %d: %d bytes, first %d", i, len(m.Data), m.Data[0])
		}
	}
}

func TestLastMsgFromLeader(t *testing.T) {
	s := startTestServer(t, "")
	nc, js := connect(t, s.ClientURL())
	ctx := testCtx(t)
	if err := Ensure(ctx, js, "lead"); err != nil {
		t.Fatal(err)
	}
	n := NewNames("lead")
	if _, err := LastMsgFromLeader(ctx, nc, n.HistoryStream(), n.HistorySubject("none")); !errors.Is(err, ErrMsgNotFound) {
		t.Fatalf("missing subject: %v", err)
	}
	for i := range 3 {
		m := nats.NewMsg(n.HistorySubject("wf"))
		m.Header.Set("Cairn-Run", fmt.Sprint("r", i))
		m.Data = []byte(fmt.Sprint("batch ", i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LastMsgFromLeader(ctx, nc, n.HistoryStream(), n.HistorySubject("wf"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := LastMsg(ctx, nc, n.HistoryStream(), n.HistorySubject("wf"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != want.Seq || got.Subject != want.Subject || string(got.Data) != "batch 2" ||
		got.Header.Get("Cairn-Run") != "r2" || !got.Time.Equal(want.Time) {
		t.Fatalf("from the leader %+v, direct %+v", got, want)
	}
	if _, err := LastMsgFromLeader(ctx, nc, "no-such-stream", "x"); err == nil {
		t.Fatal("missing stream: no error")
	}
}
