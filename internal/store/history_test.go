package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

// TestLoadTellsEachBatchsInboxSeq: a load reports, batch by batch, the
// highest inbox sequence of the task that wrote it (0 for a batch a client
// appended), so a worker can tell which batches' commands a stopped task
// may not have sent.
func TestLoadTellsEachBatchsInboxSeq(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := embedded.StartServer(ctx, embedded.WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := streams.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := streams.Ensure(ctx, js, "seqs"); err != nil {
		t.Fatal(err)
	}
	s := New(nc, js, streams.NewNames("seqs"))
	now := time.Now().UTC()
	var head *Head
	appendBatch := func(inboxSeq uint64, events ...*history.Event) {
		t.Helper()
		if head, err = s.Append(ctx, AppendRequest{WorkflowID: "wf", Prev: head, Run: "r1", Type: "T", Queue: "q",
			Status: history.StatusRunning, Batch: events, InboxSeq: inboxSeq}); err != nil {
			t.Fatal(err)
		}
	}
	appendBatch(0, &history.Event{Seq: 1, Time: now, Type: history.TypeWorkflowStarted,
		Attributes: &history.WorkflowStarted{WorkflowType: "T", WorkflowID: "wf", Run: "r1", TaskQueue: "q"}})
	appendBatch(7, &history.Event{Seq: 2, Time: now, Type: history.TypeTimerStarted, Attributes: &history.TimerStarted{ID: 1}})
	appendBatch(9, &history.Event{Seq: 3, Time: now, Type: history.TypeTimerFired, Attributes: &history.TimerFired{ID: 1}})

	got, batches, err := s.Load(ctx, "wf")
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 {
		t.Fatalf("%d batches, want 3", len(batches))
	}
	if want := []uint64{0, 7, 9}; !reflect.DeepEqual(got.BatchInboxSeqs, want) {
		t.Fatalf("batch inbox sequences %v, want %v", got.BatchInboxSeqs, want)
	}
	if got.InboxSeq != 9 {
		t.Fatalf("head's inbox sequence %d, want 9", got.InboxSeq)
	}
}
