package streams

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/streams/embedded"
)

// replicasOf returns "name=R" for every stream and bucket of namespace ns,
// and of its scheduler consumer.
func replicasOf(ctx context.Context, js jetstream.JetStream, ns string) (map[string]int, error) {
	n := NewNames(ns)
	got := map[string]int{}
	for _, name := range []string{n.HistoryStream(), n.InboxStream(), n.TasksStream(), n.SchedulesStream(),
		"KV_" + n.InstancesBucket(), "KV_" + n.RegistryBucket(), "KV_" + n.WorkersBucket(), "KV_" + n.CallbacksBucket(),
		"KV_" + n.SchedulesBucket()} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", name, err)
		}
		got[name] = s.CachedInfo().Config.Replicas
	}
	c, err := js.Consumer(ctx, n.SchedulesStream(), n.SchedulerConsumer())
	if err != nil {
		return nil, err
	}
	// A consumer without its own count follows its stream; the cluster
	// info says how many replicas it has.
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.Cluster == nil {
		return nil, fmt.Errorf("consumer %s: no cluster information yet", n.SchedulerConsumer())
	}
	got["consumer "+n.SchedulerConsumer()] = 1 + len(info.Cluster.Replicas)
	return got, nil
}

// wantAll waits until every stream, bucket and consumer of ns has want
// replicas: the server scales consumers in the background.
func wantAll(ctx context.Context, t *testing.T, js jetstream.JetStream, ns string, want int, when string) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("%s: R%d everywhere after %v", when, want, time.Since(start)) }()
	testutil.Eventually(t, 30*time.Second, func() error {
		got, err := replicasOf(ctx, js, ns)
		if err != nil {
			return err
		}
		var wrong []string
		for name, r := range got {
			if r != want {
				wrong = append(wrong, fmt.Sprintf("%s=R%d", name, r))
			}
		}
		if len(wrong) > 0 {
			return fmt.Errorf("%s: want R%d everywhere, got %s", when, want, strings.Join(wrong, ", "))
		}
		return nil
	})
}

// TestEnsureReplicas checks on a 3-node cluster that WithReplicas scales
// every stream and bucket (and the consumers that follow them) up and down,
// and that an Ensure without it, as a worker's, keeps the count it finds.
func TestEnsureReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := embedded.StartCluster(ctx, 3, embedded.WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	_, js := connect(t, c.ClientURLs())

	if r, err := NamespaceReplicas(ctx, js, "rep"); r != 0 || err != nil {
		t.Fatalf("replicas of a missing namespace: %d, %v", r, err)
	}
	if err := Ensure(ctx, js, "rep"); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureSchedulerConsumer(ctx, js, NewNames("rep")); err != nil {
		t.Fatal(err)
	}
	wantAll(ctx, t, js, "rep", 1, "default")

	if err := Ensure(ctx, js, "rep", WithReplicas(3)); err != nil {
		t.Fatal(err)
	}
	wantAll(ctx, t, js, "rep", 3, "WithReplicas(3)")
	if r, err := NamespaceReplicas(ctx, js, "rep"); r != 3 || err != nil {
		t.Fatalf("NamespaceReplicas = %d, %v", r, err)
	}

	// A worker or client starting later keeps the namespace at R3.
	if err := Ensure(ctx, js, "rep"); err != nil {
		t.Fatal(err)
	}
	wantAll(ctx, t, js, "rep", 3, "Ensure without WithReplicas")

	if err := Ensure(ctx, js, "rep", WithReplicas(1)); err != nil {
		t.Fatal(err)
	}
	wantAll(ctx, t, js, "rep", 1, "WithReplicas(1)")

	// More replicas than nodes is the server's error, reported as such.
	if err := Ensure(ctx, js, "rep", WithReplicas(5)); err == nil {
		t.Fatal("R5 on 3 nodes accepted")
	} else {
		t.Logf("R5 on 3 nodes: %v", err)
	}
}
