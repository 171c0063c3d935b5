package orchestrator

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

// runningWorker is an orchestrator Worker running on its own connection.
type runningWorker struct {
	w      *Worker
	nc     *nats.Conn
	cancel context.CancelFunc
	done   chan error
}

func startOwner(t *testing.T, url string, names streams.Names) *runningWorker {
	t.Helper()
	nc, err := streams.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorker(nc, js, names, "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rw := &runningWorker{w: w, nc: nc, cancel: cancel, done: make(chan error, 1)}
	go func() { rw.done <- w.Run(ctx) }()
	t.Cleanup(rw.stop)
	select {
	case <-w.Ready():
	case err := <-rw.done:
		t.Fatalf("worker stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready")
	}
	return rw
}

// stop stops the worker gracefully: it leaves, releasing its partitions.
func (rw *runningWorker) stop() {
	if rw.cancel == nil {
		return
	}
	rw.cancel()
	<-rw.done
	rw.cancel = nil
	rw.nc.Close()
}

// kill drops the worker's connection at once: it announces nothing more
// and pulls nothing more, as after a crash.
func (rw *runningWorker) kill() {
	rw.nc.Close()
	rw.cancel()
	<-rw.done
	rw.cancel = nil
}

func owned(rws ...*runningWorker) []int {
	out := make([]int, len(rws))
	for i, rw := range rws {
		out[i] = rw.w.parts.Owned()
	}
	return out
}

// TestPartitionOwnershipFollowsMembers: workers of a queue split its
// partitions evenly once they hear each other; a worker that stops leaves
// its partitions to the others at once, and so, after the member timeout,
// does one that dies.
func TestPartitionOwnershipFollowsMembers(t *testing.T) {
	srv, err := embedded.StartServer(context.Background(), embedded.WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	names := streams.NewNames("own")
	nc, err := streams.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := streams.Ensure(context.Background(), js, names.Namespace()); err != nil {
		t.Fatal(err)
	}
	const n = streams.DefaultPartitions
	a := startOwner(t, srv.ClientURL(), names)
	if got := owned(a)[0]; got != n {
		t.Fatalf("a lone worker owns %d partitions, want %d", got, n)
	}
	b := startOwner(t, srv.ClientURL(), names)
	c := startOwner(t, srv.ClientURL(), names)
	testutil.EventuallyTrue(t, 10*time.Second, func() bool {
		o := owned(a, b, c)
		return o[0]+o[1]+o[2] == n && o[0] >= n/3 && o[1] >= n/3 && o[2] >= n/3
	}, "three workers splitting the partitions evenly")

	c.stop()
	testutil.EventuallyTrue(t, 10*time.Second, func() bool {
		o := owned(a, b)
		return o[0]+o[1] == n && o[0] == n/2
	}, "two workers taking over the partitions of one that stopped")

	b.kill()
	testutil.EventuallyTrue(t, 10*time.Second, func() bool { return owned(a)[0] == n },
		"the last worker taking over the partitions of one that died")
}
