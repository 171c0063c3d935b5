package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/e2e/flows"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
)

// TestClusterNodeLossAndLeaderChanges runs three waves of workflows (five
// activities and a timer each) on a 3-node cluster at R3, served by two
// workers: during the first the node leading the history stream is killed
// (cut off from the others, then stopped, without handing its leaderships
// over), during the second it comes back, during the third the inbox, tasks
// and history streams and their consumers hand over their leadership.
// Every run completes with its result, no history holds a duplicate or a
// gap, and every activity closed in history ran. A task whose commands a
// lost node refused is the case that broke it: see orchestrator/reemit.go.
func TestClusterNodeLossAndLeaderChanges(t *testing.T) {
	const wave = 35
	env := testenv.New(t, testenv.WithCluster(3))
	cl := env.Cluster()
	names := env.Names()
	record := filepath.Join(t.TempDir(), "executions")
	ctx := testCtx(t, 3*time.Minute)
	c := env.Client(t)
	// Two workers sharing the queue, each on its own connection to the
	// list of the nodes' URLs.
	// Its log, at debug, is shown for a run that did not finish.
	logPath := filepath.Join(t.TempDir(), "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for range 2 {
		env.StartWorker(t, "default", registerSteps(record), worker.WithLogger(logger))
	}

	var ids []string
	start := func(prefix string) uint64 {
		base := committed(ctx, env)
		for i := range wave {
			id := fmt.Sprintf("%s-%03d", prefix, i)
			if _, err := c.Start(ctx, client.StartOptions{ID: id}, flows.Steps, id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return base
	}
	// A run commits eight batches (its start, then one per activity
	// result and timer fire, the last closing it): a wave is under way
	// once a batch and a half per run are in.
	underWay := func(base uint64) {
		t.Helper()
		testutil.EventuallyTrue(t, time.Minute, func() bool { return committed(ctx, env) >= base+3*wave/2 }, "the wave under way")
	}

	// Node loss and return.
	underWay(start("loss"))
	leader := streamLeader(ctx, t, env, names.HistoryStream())
	t.Logf("killing %s, leader of %s (inbox led by %s, tasks by %s)", cl.NodeName(leader), names.HistoryStream(),
		cl.NodeName(streamLeader(ctx, t, env, names.InboxStream())), cl.NodeName(streamLeader(ctx, t, env, names.TasksStream())))
	atStop, running := committed(ctx, env), wave-closedListed(t, c)
	stopped := time.Now()
	cl.KillNode(leader)
	t.Logf("node killed in %v with %d runs of the wave running", time.Since(stopped), running)
	if running == 0 {
		t.Fatal("every run closed before the node was killed; the test proved nothing")
	}
	// The two nodes left keep a quorum: runs move on without the third,
	// each running one committing at least its close.
	testutil.EventuallyTrue(t, time.Minute, func() bool { return committed(ctx, env) >= atStop+uint64(running) },
		"runs progress with a node down")
	t.Logf("%d batches committed with the node down, %v after the kill", committed(ctx, env)-atStop, time.Since(stopped))

	// The node's return.
	underWay(start("return"))
	restarted := time.Now()
	running = 2*wave - closedListed(t, c)
	if err := cl.RestartNode(ctx, leader); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s back and caught up in %v (%v after the kill) with %d runs running", cl.NodeName(leader),
		time.Since(restarted), time.Since(stopped), running)

	// Leader changes without a node loss.
	underWay(start("moves"))
	moved := time.Now()
	if running = 3*wave - closedListed(t, c); running == 0 {
		t.Fatal("every run closed before the leaders moved; the test proved nothing")
	}
	for _, stream := range []string{names.InboxStream(), names.TasksStream(), names.HistoryStream()} {
		stepDown(ctx, t, env, stream)
	}
	t.Logf("leaders moved in %v with %d runs running", time.Since(moved), running)

	for _, id := range ids {
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil {
			// Say where the run stands: what it waits for, and its last
			// events.
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			d, derr := c.Describe(dctx, id, "")
			events, herr := c.History(dctx, id, "")
			cancel()
			if len(events) > 4 {
				events = events[len(events)-4:]
			}
			data, _ := os.ReadFile(record)
			var ran []string
			for _, line := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(line, id+"/") {
					ran = append(ran, line)
				}
			}
			logged, _ := os.ReadFile(logPath)
			var lines []string
			for _, line := range strings.Split(string(logged), "\n") {
				if strings.Contains(line, id) {
					lines = append(lines, line)
				}
			}
			var evs []string
			for _, ev := range events {
				evs = append(evs, fmt.Sprintf("%s at %s", ev.Type, ev.Time.Format(time.StampMicro)))
			}
			t.Fatalf("%s: %v\ndescribe: %+v (%v)\nlast events: %v (%v)\nexecutions recorded: %v\nworker log:\n%s", id, err, d, derr, evs, herr, ran, strings.Join(lines, "\n"))
		}
		if got != 5 {
			t.Fatalf("%s: result %d, want 5", id, got)
		}
		events := checkHistory(t, c, id)
		if k := count(events, history.TypeActivityCompleted); k != 5 {
			t.Fatalf("%s: %d activities completed, want 5", id, k)
		}
		if k := count(events, history.TypeTimerFired); k != 1 {
			t.Fatalf("%s: %d timers fired, want 1", id, k)
		}
	}
	execs := executions(t, record)
	t.Logf("%d activity executions for %d activities closed in history", execs, 5*len(ids))
	if execs < 5*len(ids) {
		t.Fatalf("only %d executions for %d completed activities", execs, 5*len(ids))
	}
	times := commitTimes(ctx, t, env)
	t.Logf("longest pause in history commits: %v after the kill, %v while the node came back, %v while the leaders moved",
		longestPause(times, stopped, restarted), longestPause(times, restarted, moved), longestPause(times, moved, moved.Add(20*time.Second)))
}

// committed is the number of messages in the history stream: committed
// batches.
func committed(ctx context.Context, env *testenv.Env) uint64 {
	// A request in flight when a leader changes is never answered: bound
	// each one.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := env.JetStream().Stream(ctx, env.Names().HistoryStream())
	if err != nil {
		return 0
	}
	return s.CachedInfo().State.Msgs
}

// streamLeader returns the index of the node leading stream.
func streamLeader(ctx context.Context, t *testing.T, env *testenv.Env, stream string) int {
	t.Helper()
	cl := env.Cluster()
	leader := -1
	testutil.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := env.JetStream().Stream(ctx, stream)
		if err != nil {
			return err
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Errorf("%s has no leader", stream)
		}
		for i := range cl.Size() {
			if cl.NodeName(i) == info.Cluster.Leader {
				leader = i
				return nil
			}
		}
		return fmt.Errorf("%s is led by %q, not a node", stream, info.Cluster.Leader)
	})
	return leader
}

// stepDown asks the leader of stream, then of each of its consumers, to
// hand over its leadership, and waits until another node leads it.
func stepDown(ctx context.Context, t *testing.T, env *testenv.Env, stream string) {
	t.Helper()
	nc := env.Conn()
	before := streamLeader(ctx, t, env, stream)
	request(t, nc, "$JS.API.STREAM.LEADER.STEPDOWN."+stream)
	testutil.EventuallyTrue(t, 30*time.Second, func() bool { return streamLeader(ctx, t, env, stream) != before },
		"a new leader of "+stream)
	s, err := env.JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	consumers := s.ConsumerNames(ctx)
	var stepped []string
	for name := range consumers.Name() {
		request(t, nc, "$JS.API.CONSUMER.LEADER.STEPDOWN."+stream+"."+name)
		stepped = append(stepped, name)
	}
	if err := consumers.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: leader moved from %s to %s; consumers stepped down: %v", stream, env.Cluster().NodeName(before),
		env.Cluster().NodeName(streamLeader(ctx, t, env, stream)), stepped)
}

// request sends a JetStream API request and fails t on an error answer.
func request(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	var resp struct {
		Error *jetstream.APIError `json:"error"`
	}
	err := testutil.Poll(30*time.Second, func() error {
		m, err := nc.Request(subject, nil, 2*time.Second)
		if err != nil {
			return err
		}
		return json.Unmarshal(m.Data, &resp)
	})
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	if resp.Error != nil {
		t.Fatalf("%s: %v", subject, resp.Error)
	}
}

// commitTimes returns when the server stored each message of the history
// stream, in order.
func commitTimes(ctx context.Context, t *testing.T, env *testenv.Env) []time.Time {
	t.Helper()
	js, stream := env.JetStream(), env.Names().HistoryStream()
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	total := int(committed(ctx, env))
	var times []time.Time
	for len(times) < total {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			times = append(times, meta.Timestamp)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatal(err)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	return times
}

// longestPause is the longest time without a commit between from and to,
// counted from from itself.
func longestPause(times []time.Time, from, to time.Time) time.Duration {
	var longest time.Duration
	prev := from
	for _, at := range times {
		if at.Before(from) {
			continue
		}
		if at.After(to) {
			break
		}
		longest = max(longest, at.Sub(prev))
		prev = at
	}
	return longest
}

// closedListed is closedCount asked again while the cluster recovers: a
// listing reads the instances bucket, whose leader may be moving, and one
// request may time out meanwhile.
func closedListed(t *testing.T, c *client.Client) int {
	t.Helper()
	n := 0
	testutil.Eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sums, err := c.List(ctx, client.ListOptions{})
		if err != nil {
			return err
		}
		n = 0
		for _, s := range sums {
			if s.Status != history.StatusRunning {
				n++
			}
		}
		return nil
	})
	return n
}
