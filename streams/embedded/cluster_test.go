package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/streams"
)

// startTestCluster starts an n-node cluster in a temp dir, shut down on
// cleanup.
func startTestCluster(t *testing.T, n int, opts ...ServerOption) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, n, append([]ServerOption{WithDataDir(t.TempDir())}, opts...)...)
	if err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// leaderOf returns the index of the node leading stream, read from stream
// info.
func leaderOf(ctx context.Context, t *testing.T, c *Cluster, js jetstream.JetStream, stream string) int {
	t.Helper()
	var leader int
	testutil.Eventually(t, 30*time.Second, func() error {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return errors.New("no leader")
		}
		for i := range c.Size() {
			if c.NodeName(i) == info.Cluster.Leader {
				leader = i
				return nil
			}
		}
		return fmt.Errorf("leader %q is not a node", info.Cluster.Leader)
	})
	return leader
}

func TestClusterSurvivesTheLossOfALeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(c *Cluster, i int)
	}{
		{"stopped", (*Cluster).StopNode},
		{"killed", (*Cluster).KillNode},
	} {
		t.Run(tc.name, func(t *testing.T) { loseALeader(t, tc.lose) })
	}
}

// loseALeader stops or kills the node leading an R3 stream, publishes and
// reads while it is away, and brings it back.
func loseALeader(t *testing.T, lose func(c *Cluster, i int)) {
	start := time.Now()
	c := startTestCluster(t, 3)
	t.Logf("cluster ready in %v", time.Since(start))
	urls := strings.Split(c.ClientURLs(), ",")
	if len(urls) != 3 {
		t.Fatalf("ClientURLs = %q", c.ClientURLs())
	}
	for i, u := range urls {
		if !strings.HasPrefix(u, "nats://127.0.0.1:") {
			t.Errorf("URL %d = %q", i, u)
		}
		if c.NodeName(i) != fmt.Sprintf("node-%d", i+1) || c.Node(i).Inner().Name() != c.NodeName(i) {
			t.Errorf("node %d: name %q, server %q", i, c.NodeName(i), c.Node(i).Inner().Name())
		}
		if _, err := os.Stat(filepath.Join(c.base.dataDir, c.NodeName(i), "jetstream")); err != nil {
			t.Errorf("node %d data: %v", i, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	nc, js := connect(t, c.ClientURLs())
	if err := streams.Ensure(ctx, js, "r3", streams.WithReplicas(3)); err != nil {
		t.Fatal(err)
	}
	n := streams.NewNames("r3")
	s, err := js.Stream(ctx, n.HistoryStream())
	if err != nil {
		t.Fatal(err)
	}
	if r := s.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("history stream replicas = %d", r)
	}
	if _, err := js.Publish(ctx, n.HistorySubject("wf"), []byte("before")); err != nil {
		t.Fatal(err)
	}

	// Stop the history stream's leader, and the node the client is
	// connected to if that is another: the stream elects a new leader
	// among the two left and the client moves to one of them.
	leader := leaderOf(ctx, t, c, js, n.HistoryStream())
	stopped := time.Now()
	lose(c, leader)
	c.StopNode(leader) // no-op
	if c.Node(leader) != nil {
		t.Fatal("stopped node still returned")
	}
	testutil.Eventually(t, 60*time.Second, func() error {
		// A request to the old leader may go unanswered: bound each try.
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := js.Publish(ctx, n.HistorySubject("wf"), []byte("during"), jetstream.WithMsgID("during"))
		return err
	})
	t.Logf("a publish succeeded %v after the leader began to stop", time.Since(stopped))
	if newLeader := leaderOf(ctx, t, c, js, n.HistoryStream()); newLeader == leader {
		t.Fatalf("leader is still the stopped node %d", leader)
	}
	// The leader has every acknowledged write; a direct get may be
	// answered by the other replica before it applied the last one.
	m, err := streams.LastMsgFromLeader(ctx, nc, n.HistoryStream(), n.HistorySubject("wf"))
	if err != nil || string(m.Data) != "during" || m.Seq != 2 {
		t.Fatalf("last message with a node down: %+v, %v", m, err)
	}

	if err := c.RestartNode(ctx, leader); err != nil {
		t.Fatal(err)
	}
	if c.Node(leader) == nil || c.Node(leader).ClientURL() != urls[leader] {
		t.Fatalf("restarted node %d is not back on %s", leader, urls[leader])
	}
	// The restarted replica catches up on what it missed.
	testutil.Eventually(t, 30*time.Second, func() error {
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("replica %s: current %v, offline %v", r.Name, r.Current, r.Offline)
			}
		}
		if len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("%d replicas besides the leader", len(info.Cluster.Replicas))
		}
		return nil
	})
	if err := c.RestartNode(ctx, leader); err == nil {
		t.Fatal("restarting a running node succeeded")
	}
}

func TestStartClusterErrors(t *testing.T) {
	ctx := testCtx(t)
	if _, err := StartCluster(ctx, 1, WithDataDir(t.TempDir())); !errors.Is(err, ErrServerStart) {
		t.Errorf("one node: %v", err)
	}
	if _, err := StartCluster(ctx, 3); !errors.Is(err, ErrServerStart) {
		t.Errorf("no data dir: %v", err)
	}
}
