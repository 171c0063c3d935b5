package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

// clusterStores starts a 3-node cluster with namespace ns at R3 and
// returns a store per connection, as separate processes would have.
func clusterStores(t *testing.T, ns string, n int) []*JetStream {
	t.Helper()
	stores, _ := clusterWithStores(t, ns, n)
	return stores
}

// clusterWithStores is clusterStores that also returns the cluster.
func clusterWithStores(t *testing.T, ns string, n int) ([]*JetStream, *embedded.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := embedded.StartCluster(ctx, 3, embedded.WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	var stores []*JetStream
	for i := range n {
		nc, err := streams.Connect(c.ClientURLs())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := streams.Ensure(ctx, js, ns, streams.WithReplicas(3)); err != nil {
				t.Fatal(err)
			}
		}
		stores = append(stores, New(nc, js, streams.NewNames(ns)))
	}
	return stores, c
}

// followerStore returns a store connected to a node that does not lead
// the namespace's history stream, so that its direct gets are answered by
// a follower (a node's own replica answers first).
func followerStore(t *testing.T, c *embedded.Cluster, leaderOf *JetStream) *JetStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := leaderOf.js.Stream(ctx, leaderOf.names.HistoryStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil {
		t.Fatalf("history stream info: %+v, %v", info, err)
	}
	for i := range c.Size() {
		if c.NodeName(i) == info.Cluster.Leader {
			continue
		}
		t.Logf("leader %s, reading from %s", info.Cluster.Leader, c.NodeName(i))
		nc, err := streams.Connect(c.Node(i).ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return New(nc, js, leaderOf.names)
	}
	t.Fatal("no follower")
	return nil
}

// TestAppendRacingItsDuplicateOnACluster: a client's start and the worker
// that took its start wake append the same batch at the same moment. On a
// replicated stream the second one may arrive while the first is still
// being replicated, which the server answers with "duplicate message id is
// in process"; both must end with the one stored message.
func TestAppendRacingItsDuplicateOnACluster(t *testing.T) {
	stores := clusterStores(t, "dup", 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now().UTC()
	for i := range 200 {
		id := fmt.Sprintf("wf-%d", i)
		req := AppendRequest{WorkflowID: id, Run: "r1", Type: "T", Queue: "q", Status: history.StatusRunning,
			Batch: history.Batch{{Seq: 1, Time: now, Type: history.TypeWorkflowStarted,
				Attributes: &history.WorkflowStarted{WorkflowType: "T", WorkflowID: id, Run: "r1", TaskQueue: "q"}}}}
		heads := make([]*Head, len(stores))
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for k, s := range stores {
			wg.Go(func() { heads[k], errs[k] = s.Append(ctx, req) })
		}
		wg.Wait()
		for k := range stores {
			if errs[k] != nil {
				t.Fatalf("%s: append %d: %v", id, k, errs[k])
			}
		}
		if heads[0].Seq != heads[1].Seq {
			t.Fatalf("%s: the racing appends stored at %d and %d", id, heads[0].Seq, heads[1].Seq)
		}
	}
}

// TestReadYourWritesOnACluster: what one process appends, another reads at
// once, whichever replica answers its direct gets: the head and the last
// batch come from the stream's leader and a load reads until it reaches
// the head. A stale head or
// load would make a worker drop the result of an activity it does not know.
func TestReadYourWritesOnACluster(t *testing.T) {
	stores, c := clusterWithStores(t, "ryw", 1)
	w := stores[0]
	r := followerStore(t, c, w)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now().UTC()
	const rounds = 300
	var head *Head
	for i := range rounds {
		req := AppendRequest{WorkflowID: "wf", Prev: head, Run: "r1", Type: "T", Queue: "q", Status: history.StatusRunning,
			Batch: history.Batch{{Seq: int64(i + 1), Time: now, Type: history.TypeWorkflowStarted,
				Attributes: &history.WorkflowStarted{WorkflowType: "T", WorkflowID: "wf", Run: "r1", TaskQueue: "q"}}}}
		if i > 0 {
			req.Batch[0].Type, req.Batch[0].Attributes = history.TypeTimerStarted, &history.TimerStarted{ID: int64(i)}
		}
		var err error
		if head, err = w.Append(ctx, req); err != nil {
			t.Fatal(err)
		}
		// What a client's result wait reads: a replica behind the leader
		// would report a run just started as not found.
		last, batch, err := r.Last(ctx, "wf")
		if err != nil || last == nil || last.Seq != head.Seq || len(batch) != 1 {
			t.Fatalf("round %d: last %+v, %v; appended at %d", i, last, err, head.Seq)
		}
		got, err := r.Head(ctx, "wf")
		if err != nil || got.Seq != head.Seq {
			t.Fatalf("round %d: head %+v, %v; appended at %d", i, got, err, head.Seq)
		}
		loaded, batches, err := r.Load(ctx, "wf")
		if err != nil || loaded.Seq != head.Seq || len(batches) != i+1 {
			t.Fatalf("round %d: load %+v with %d batches, %v; appended at %d", i, loaded, len(batches), err, head.Seq)
		}
	}
}
