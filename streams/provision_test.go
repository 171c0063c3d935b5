package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func streamConfig(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(testCtx(t), name)
	if err != nil {
		t.Fatalf("Stream(%q): %v", name, err)
	}
	return s.CachedInfo().Config
}

func TestEnsureCreatesLayout(t *testing.T) {
	_, _, js := ensured(t, "default")
	n := NewNames("default")

	h := streamConfig(t, js, n.HistoryStream())
	if h.Retention != jetstream.LimitsPolicy || !h.AllowDirect || h.Discard != jetstream.DiscardOld ||
		h.Storage != jetstream.FileStorage || h.Duplicates != DefaultDuplicateWindow || h.MaxAge != 0 {
		t.Errorf("history config: %+v", h)
	}
	if len(h.Subjects) != 1 || h.Subjects[0] != "cairn.default.history.>" {
		t.Errorf("history subjects: %v", h.Subjects)
	}

	in := streamConfig(t, js, n.InboxStream())
	if in.Retention != jetstream.WorkQueuePolicy || !in.AllowMsgSchedules || !in.AllowMsgTTL || !in.AllowDirect {
		t.Errorf("inbox config: %+v", in)
	}
	if fmt.Sprint(in.Subjects) != "[cairn.default.inbox.> cairn.default.timer.> cairn.default.attempt.> cairn.default.retention.>]" {
		t.Errorf("inbox subjects: %v", in.Subjects)
	}

	tk := streamConfig(t, js, n.TasksStream())
	if tk.Retention != jetstream.WorkQueuePolicy || !tk.AllowMsgSchedules {
		t.Errorf("tasks config: %+v", tk)
	}
	if fmt.Sprint(tk.Subjects) != "[cairn.default.task.> cairn.default.taskdelay.>]" {
		t.Errorf("tasks subjects: %v", tk.Subjects)
	}

	ctx := testCtx(t)
	for bucket, ttl := range map[string]time.Duration{
		n.InstancesBucket(): 0,
		n.RegistryBucket():  0,
		n.WorkersBucket():   WorkersTTL,
		n.CallbacksBucket(): CallbacksMaxAge,
		n.SecretsBucket():   0,
	} {
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatalf("KeyValue(%q): %v", bucket, err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.History() != 1 || st.TTL() != ttl {
			t.Errorf("bucket %q: history %d ttl %v", bucket, st.History(), st.TTL())
		}
	}
}

func TestEnsureIdempotent(t *testing.T) {
	_, _, js := ensured(t, "ns1")
	n := NewNames("ns1")
	before := streamConfig(t, js, n.InboxStream())
	for range 3 {
		if err := Ensure(testCtx(t), js, "ns1"); err != nil {
			t.Fatalf("repeated Ensure: %v", err)
		}
	}
	after := streamConfig(t, js, n.InboxStream())
	if fmt.Sprintf("%+v", before) != fmt.Sprintf("%+v", after) {
		t.Errorf("config changed:\n%+v\n%+v", before, after)
	}
}

func TestEnsureConcurrent(t *testing.T) {
	s := startTestServer(t, "")
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		// Separate connections, like separate processes.
		_, js := connect(t, s.ClientURL())
		wg.Go(func() { errs <- Ensure(testCtx(t), js, "race") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Ensure: %v", err)
		}
	}
	// The provisioners agreed on one attempt token key, and it stays.
	_, js := connect(t, s.ClientURL())
	key, err := AttemptTokenKey(testCtx(t), js, NewNames("race"))
	if err != nil || len(key) != attemptTokenKeyBytes {
		t.Fatalf("attempt token key: %d bytes, %v", len(key), err)
	}
	if err := Ensure(testCtx(t), js, "race"); err != nil {
		t.Fatal(err)
	}
	again, err := AttemptTokenKey(testCtx(t), js, NewNames("race"))
	if err != nil || string(again) != string(key) {
		t.Fatalf("the key changed on a later Ensure (%v)", err)
	}
	if _, err := AttemptTokenKey(testCtx(t), js, NewNames("never")); !errors.Is(err, ErrNoAttemptTokenKey) {
		t.Fatalf("key of a namespace never provisioned: %v, want ErrNoAttemptTokenKey", err)
	}
}

func TestEnsureOptions(t *testing.T) {
	_, _, js := ensured(t, "opts",
		WithMemoryStorage(),
		WithMaxMsgSize(1<<20),
		WithHistoryMaxAge(time.Minute),
		WithDuplicateWindow(5*time.Minute),
	)
	n := NewNames("opts")
	h := streamConfig(t, js, n.HistoryStream())
	if h.Storage != jetstream.MemoryStorage || h.MaxMsgSize != 1<<20 || h.MaxAge != time.Minute {
		t.Errorf("history: %+v", h)
	}
	// The history window is capped at the max age; the server refuses more.
	if h.Duplicates != time.Minute {
		t.Errorf("history duplicates = %v, want 1m", h.Duplicates)
	}
	if in := streamConfig(t, js, n.InboxStream()); in.Duplicates != 5*time.Minute || in.Storage != jetstream.MemoryStorage {
		t.Errorf("inbox: %+v", in)
	}
	// Changing an updatable option on an existing layout is applied.
	if err := Ensure(testCtx(t), js, "opts", WithMemoryStorage(), WithMaxMsgSize(2<<20)); err != nil {
		t.Fatal(err)
	}
	if h := streamConfig(t, js, n.HistoryStream()); h.MaxMsgSize != 2<<20 || h.MaxAge != 0 {
		t.Errorf("history after update: %+v", h)
	}
}

func TestEnsureRejects(t *testing.T) {
	s := startTestServer(t, "")
	_, js := connect(t, s.ClientURL())
	ctx := testCtx(t)
	if err := Ensure(ctx, js, "bad.ns"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("invalid namespace: %v", err)
	}
	for _, opt := range []Option{WithReplicas(0), WithMaxMsgSize(0), WithHistoryMaxAge(-1), WithDuplicateWindow(0)} {
		if err := Ensure(ctx, js, "x", opt); err == nil {
			t.Errorf("bad option accepted")
		}
	}
}

func TestEnsureIncompatibleRetention(t *testing.T) {
	s := startTestServer(t, "")
	_, js := connect(t, s.ClientURL())
	ctx := testCtx(t)
	n := NewNames("hand")
	// An operator created the history stream by hand with the wrong policy.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      n.HistoryStream(),
		Subjects:  []string{n.HistoryWildcard()},
		Retention: jetstream.WorkQueuePolicy,
	}); err != nil {
		t.Fatal(err)
	}
	err := Ensure(ctx, js, "hand")
	if !errors.Is(err, ErrIncompatibleStream) {
		t.Fatalf("Ensure = %v, want ErrIncompatibleStream", err)
	}
	t.Logf("error: %v", err)
}

func TestEnsureConsumersConcurrent(t *testing.T) {
	s, _, _ := ensured(t, "cons")
	n := NewNames("cons")
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for range workers {
		_, js := connect(t, s.ClientURL())
		wg.Go(func() {
			_, err := EnsureOrchestratorConsumers(testCtx(t), js, n, "q1", 4, 10*time.Second)
			errs <- err
		})
		wg.Go(func() {
			_, err := EnsureActivityConsumer(testCtx(t), js, n, "q1", "pkg.Charge", 10*time.Second)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent consumer ensure: %v", err)
		}
	}

	_, js := connect(t, s.ClientURL())
	ctx := testCtx(t)
	for p := range 4 {
		oc, err := js.Consumer(ctx, n.InboxStream(), n.OrchestratorConsumer("q1", p))
		if err != nil {
			t.Fatal(err)
		}
		c := oc.CachedInfo().Config
		if !slices.Equal(c.FilterSubjects, n.InboxPartitionFilters("q1", p, 4)) || c.AckPolicy != jetstream.AckExplicitPolicy ||
			c.MaxDeliver != -1 || c.MaxAckPending != OrchestratorMaxAckPending || c.AckWait != 10*time.Second ||
			c.PriorityPolicy != jetstream.PriorityPolicyPinned || c.PinnedTTL != PinnedTTL || c.Metadata[PartitionsMetadata] != "4" {
			t.Errorf("workflow task consumer %d: %+v", p, c)
		}
	}
	ac, err := js.Consumer(ctx, n.TasksStream(), n.ActivityConsumer("q1", "pkg.Charge"))
	if err != nil {
		t.Fatal(err)
	}
	c := ac.CachedInfo().Config
	if c.FilterSubject != n.TaskSubject("q1", "pkg.Charge") || c.MaxDeliver != -1 || c.MaxAckPending != ActivityMaxAckPending {
		t.Errorf("activity consumer: %+v", c)
	}

	// A second queue's consumer must not overlap the first on the WorkQueue
	// stream (the server rejects overlapping filters).
	if _, err := EnsureOrchestratorConsumers(ctx, js, n, "q2", DefaultPartitions, 0); err != nil {
		t.Errorf("second queue: %v", err)
	}
	// Workers that disagree on the partition count are told, not mixed.
	if _, err := EnsureOrchestratorConsumers(ctx, js, n, "q1", 8, 0); !errors.Is(err, ErrPartitionMismatch) {
		t.Errorf("another partition count: %v", err)
	}
	if _, err := EnsureActivityConsumer(ctx, js, n, "q1", "pkg.Refund", 0); err != nil {
		t.Errorf("second activity type: %v", err)
	}
	if _, err := EnsureOrchestratorConsumers(ctx, js, n, "bad.q", 1, 0); !errors.Is(err, ErrInvalidName) {
		t.Errorf("bad queue: %v", err)
	}
}

// TestTimerFiresIntoInbox checks the layout end to end: a schedule on a
// timer subject targets an inbox subject of the same stream, the
// orchestrator consumer receives the produced message, and it never sees the
// schedule itself.
func TestTimerFiresIntoInbox(t *testing.T) {
	_, _, js := ensured(t, "tm")
	n := NewNames("tm")
	ctx := testCtx(t)
	id := "wf.1"
	all, err := EnsureOrchestratorConsumers(ctx, js, n, "q", DefaultPartitions, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cons := all[InboxPartition(id, DefaultPartitions)]
	msg := nats.NewMsg(n.TimerSubject(id, "t1"))
	msg.Header.Set("Nats-Schedule", "@at "+time.Now().Add(300*time.Millisecond).UTC().Format(time.RFC3339Nano))
	msg.Header.Set("Nats-Schedule-Target", n.InboxSubject("q", id))
	msg.Header.Set("X-Kind", "timer")
	msg.Data = []byte("fired")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatalf("publish schedule: %v", err)
	}

	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second), jetstream.FetchPriorityGroup(PriorityGroup))
	if err != nil {
		t.Fatal(err)
	}
	var got []jetstream.Msg
	for m := range batch.Messages() {
		got = append(got, m)
	}
	if len(got) != 1 {
		t.Fatalf("got %d messages, err %v", len(got), batch.Error())
	}
	m := got[0]
	q, gotID, err := n.ParseInboxSubject(m.Subject())
	if err != nil || q != "q" || gotID != id || string(m.Data()) != "fired" || m.Headers().Get("X-Kind") != "timer" {
		t.Fatalf("fired message: %s %q %v (%q %q %v)", m.Subject(), m.Data(), m.Headers(), q, gotID, err)
	}
	if err := m.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureContextCanceled(t *testing.T) {
	s := startTestServer(t, "")
	_, js := connect(t, s.ClientURL())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Ensure(ctx, js, "c"); !errors.Is(err, context.Canceled) {
		t.Errorf("Ensure with canceled ctx = %v", err)
	}
}
