package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

// RoleFlow runs an activity, sleeps, waits for a signal and returns what
// it got: every kind of message a role sends.
func RoleFlow(ctx workflow.Context, in string) (string, error) {
	stamped, err := workflow.ExecuteActivityByName[string](ctx, "Stamp", in).Get(ctx)
	if err != nil {
		return "", err
	}
	if err := workflow.Sleep(ctx, 500*time.Millisecond); err != nil {
		return "", err
	}
	got, err := workflow.ReceiveSignal[string](ctx, "go")
	if err != nil {
		return "", err
	}
	return stamped + "+" + got, nil
}

// Echo returns its input.
func Echo(ctx workflow.Context, in string) (string, error) { return in, nil }

// roleServer is an embedded server that admits the cairn roles only (as
// cairn dev --auth runs it), and a connection per role.
type roleServer struct {
	url   string
	seeds map[streams.Role]string
	ns    string
	// violations records, per connection (its label), the permission
	// violations the server reported to it.
	mu         sync.Mutex
	violations map[string][]string
}

func newRoleServer(t *testing.T) *roleServer {
	t.Helper()
	rs := &roleServer{seeds: map[streams.Role]string{}, ns: "default", violations: map[string][]string{}}
	var users []embedded.User
	for _, r := range streams.Roles {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := kp.Seed()
		pub, _ := kp.PublicKey()
		file := filepath.Join(t.TempDir(), string(r)+".nk")
		if err := os.WriteFile(file, seed, 0o600); err != nil {
			t.Fatal(err)
		}
		rs.seeds[r] = file
		p, err := streams.RolePermissions(r, rs.ns)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, embedded.User{NKey: pub, Publish: p.Publish, Subscribe: p.Subscribe, AllowResponses: p.AllowResponses})
	}
	srv, err := embedded.StartServer(context.Background(), embedded.WithDataDir(t.TempDir()), embedded.WithUsers(users...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	rs.url = srv.ClientURL()
	return rs
}

// conn connects as role, with its inbox prefix; label names the
// connection in violations.
func (rs *roleServer) conn(t *testing.T, role streams.Role, label string) *nats.Conn {
	t.Helper()
	opts, err := streams.Auth{NKey: rs.seeds[role], InboxPrefix: streams.RoleInboxPrefix(role, rs.ns)}.Options()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, nats.Name("cairn-test-"+label), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			rs.mu.Lock()
			rs.violations[label] = append(rs.violations[label], err.Error())
			rs.mu.Unlock()
		}
	}))
	nc, err := streams.Connect(rs.url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// denied waits until the server has refused the connection labelled
// label something on subject.
func (rs *roleServer) denied(t *testing.T, label, subject string) {
	t.Helper()
	testutil.EventuallyTrue(t, 10*time.Second, func() bool {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		for _, v := range rs.violations[label] {
			if strings.Contains(v, `"`+subject+`"`) {
				return true
			}
		}
		return false
	}, fmt.Sprintf("the server refuses %s on %s", label, subject))
}

// noViolations fails the test if the server refused any of these
// connections anything.
func (rs *roleServer) noViolations(t *testing.T, labels ...string) {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, l := range labels {
		if vs := rs.violations[l]; len(vs) > 0 {
			t.Errorf("%s was refused what it needs: %v", l, vs)
		}
	}
}

// TestRolesRunEverythingAndRefuseTheRest: with the server admitting the
// cairn roles only, an engine worker, an activity worker and a client, each
// with its own role, run a workflow of an activity, a durable timer and a
// signal without a single permission violation; then, with the activity
// worker's credentials, writing history, writing a bucket, firing a timer,
// sending a client's message, deleting a stream message, making streams
// and reading the attempt token key are all refused by the server, and
// what the role may publish but not send (a result for another attempt, a
// message scheduled onto the engine's subject) is dead-lettered by the
// engine. The client's role cannot fire a timer either. A connection
// without credentials is refused.
func TestRolesRunEverythingAndRefuseTheRest(t *testing.T) {
	rs := newRoleServer(t)
	ctx := testCtx(t, 2*time.Minute)

	if _, err := nats.Connect(rs.url); err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("a connection without credentials: %v; want an authorization violation", err)
	}

	admin := rs.conn(t, streams.RoleAdmin, "admin")
	adminJS, _ := jetstream.New(admin)
	if err := streams.Ensure(ctx, adminJS, rs.ns); err != nil {
		t.Fatal(err)
	}

	engine, err := worker.New(rs.conn(t, streams.RoleEngine, "engine"), "default")
	if err != nil {
		t.Fatal(err)
	}
	engine.RegisterWorkflow(RoleFlow)
	runWorker(t, engine)

	started, release := make(chan struct{}, 4), make(chan struct{})
	acts, err := worker.New(rs.conn(t, streams.RoleActivity, "activity worker"), "default")
	if err != nil {
		t.Fatal(err)
	}
	acts.RegisterActivity(func(ctx context.Context, in string) (string, error) {
		started <- struct{}{}
		select {
		case <-release:
			return "stamped " + in, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, worker.WithName("Stamp"))
	runWorker(t, acts)

	cl, err := client.New(ctx, rs.conn(t, streams.RoleClient, "client"), client.WithoutHistoryWrites())
	if err != nil {
		t.Fatal(err)
	}
	run, err := cl.Start(ctx, client.StartOptions{ID: "roles"}, RoleFlow, "order")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the activity never started")
	}

	// While the attempt runs: what the activity role may not do at all.
	names := streams.NewNames(rs.ns)
	act := rs.conn(t, streams.RoleActivity, "activity forger")
	actJS, _ := jetstream.New(act)
	key := names.InstanceKey("roles")
	forbidden := []*nats.Msg{
		{Subject: names.HistorySubject("roles"), Data: []byte(`[]`)},
		{Subject: names.HistorySubject("other"), Data: []byte(`[]`)},
		{Subject: "$KV." + names.InstancesBucket() + "." + key, Data: []byte(`{}`)},
		{Subject: "$KV." + names.RegistryBucket() + ".workflow.default.Ghost", Data: []byte(`{}`)},
		{Subject: "$KV." + names.SecretsBucket() + ".attempt-token-key", Data: []byte(`0123456789abcdef0123456789abcdef`)},
		store.NewTimerFired(names.InboxSubject("default", "roles"), key, run.Run, 1),
		store.NewCancel(names.ClientInboxSubject("default", "roles"), key, run.Run, "forged"),
		{Subject: names.TimerSubject("roles", "t1"), Data: []byte(`x`)},
	}
	for _, m := range forbidden {
		if err := act.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		rs.denied(t, "activity forger", m.Subject)
	}
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		t.Cleanup(cancel)
		return c
	}
	if err := actJS.DeleteStream(short(), names.HistoryStream()); err == nil {
		t.Fatal("the activity role deleted the history stream")
	}
	rs.denied(t, "activity forger", "$JS.API.STREAM.DELETE."+names.HistoryStream())
	if _, err := actJS.CreateStream(short(), jetstream.StreamConfig{Name: "stolen", Subjects: []string{"cairn.default.history.>"}}); err == nil {
		t.Fatal("the activity role created a stream")
	}
	rs.denied(t, "activity forger", "$JS.API.STREAM.CREATE.stolen")
	if err := act.PublishRequest("$JS.API.STREAM.MSG.DELETE."+names.HistoryStream(), act.NewRespInbox(), []byte(`{"seq":1}`)); err != nil {
		t.Fatal(err)
	}
	rs.denied(t, "activity forger", "$JS.API.STREAM.MSG.DELETE."+names.HistoryStream())
	if _, err := streams.AttemptTokenKey(short(), actJS, names); err == nil {
		t.Fatal("the activity role read the attempt token key")
	}
	rs.denied(t, "activity forger", "$JS.API.DIRECT.GET.KV_"+names.SecretsBucket()+".$KV."+names.SecretsBucket()+".attempt-token-key")
	if _, err := act.SubscribeSync("_INBOX.cairn.default.engine.>"); err != nil {
		t.Fatal(err)
	}
	rs.denied(t, "activity forger", "_INBOX.cairn.default.engine.>")

	// What it may publish but not send: a result for another attempt (no
	// token of the engine's), and a cancel scheduled from an attempt
	// timer onto the engine's subject. Both are dead letters.
	result := activities.NewResultMsg(names.ActivityInboxSubject("default", "roles"), &activities.Result{
		Run: run.Run, ActivityID: "1", Attempt: 2, Output: []byte(`"forged"`)})
	if _, err := actJS.PublishMsg(ctx, result); err != nil {
		t.Fatalf("the activity role may report on its subject: %v", err)
	}
	scheduled := store.NewCancel(names.AttemptTimerSubject("roles", run.Run, "9", 1), key, run.Run, "scheduled")
	scheduled.Header.Set("Nats-Schedule", "@at "+time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano))
	scheduled.Header.Set("Nats-Schedule-Target", names.InboxSubject("default", "roles"))
	if _, err := actJS.PublishMsg(ctx, scheduled); err != nil {
		t.Fatalf("the activity role may arm an attempt timer: %v", err)
	}
	// The client's role cannot fire a timer on its subject either.
	cli := rs.conn(t, streams.RoleClient, "client forger")
	cliJS, _ := jetstream.New(cli)
	fire := store.NewTimerFired(names.ClientInboxSubject("default", "roles"), key, run.Run, 1)
	fire.Header.Del("Nats-Msg-Id")
	if _, err := cliJS.PublishMsg(ctx, fire); err != nil {
		t.Fatal(err)
	}
	if err := cli.PublishMsg(store.NewTimerFired(names.InboxSubject("default", "roles"), key, run.Run, 1)); err != nil {
		t.Fatal(err)
	}
	rs.denied(t, "client forger", names.InboxSubject("default", "roles"))
	// Nor append to history.
	if err := cli.Publish(names.HistorySubject("roles"), []byte(`[]`)); err != nil {
		t.Fatal(err)
	}
	rs.denied(t, "client forger", names.HistorySubject("roles"))

	// A task that names another history as its reply, queued by whoever
	// could: the activity worker refuses it (and its role could not
	// publish there anyway).
	forged := activities.NewTaskMsg(names.TaskSubject("default", "Stamp"), &activities.Task{
		ActivityAttempt: history.ActivityAttempt{Namespace: rs.ns, WorkflowID: "roles", Run: run.Run, ActivityID: "7",
			WorkflowType: "RoleFlow", ActivityType: "Stamp", Attempt: 1, Scheduled: time.Now()},
		Reply: names.HistorySubject("roles"), Input: []byte(`"forged"`)})
	if _, err := adminJS.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}

	dead, err := adminJS.Stream(ctx, names.DeadLetterStream())
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		info, err := dead.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs < 4 {
			return fmt.Errorf("%d dead letters, want the forged result, the scheduled cancel, the client's fire and the forged task", info.State.Msgs)
		}
		return nil
	})
	var reasons []string
	for seq := uint64(1); seq <= 4; seq++ {
		m, err := dead.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		reasons = append(reasons, m.Header.Get("Cairn-Dead-Reason"))
	}
	joined := strings.Join(reasons, " | ")
	for _, want := range []string{"no valid attempt token", `"cancel" scheduled from`, `"timer.fired" on a client's subject`,
		"header Cairn-Reply is not an inbox subject"} {
		if !strings.Contains(joined, want) {
			t.Errorf("dead letters %q: none says %q", joined, want)
		}
	}

	// Everything still works with the roles.
	close(release)
	testutil.Eventually(t, 30*time.Second, func() error {
		d, err := cl.Describe(ctx, "roles", "")
		if err != nil {
			return err
		}
		if len(d.PendingActivities) > 0 || len(d.PendingTimers) > 0 {
			return errors.New("the activity or the timer is pending")
		}
		return nil
	})
	if err := cl.Signal(ctx, "roles", "", "go", "now"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := cl.Result(ctx, "roles", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != "stamped order+now" {
		t.Fatalf("result %q", got)
	}
	events := checkHistory(t, cl, "roles")
	if n := count(events, history.TypeWorkflowCancelRequested); n != 0 {
		t.Fatalf("%d cancel requests in history; all were forged", n)
	}

	// Terminate and reset through the engine: the client role writes no
	// history, the engine appends for it.
	other, err := cl.Start(ctx, client.StartOptions{ID: "roles-2"}, RoleFlow, "second")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the second activity never started")
	}
	if err := cl.Terminate(ctx, "roles-2", "", "enough"); err != nil {
		t.Fatal(err)
	}
	d, err := cl.Describe(ctx, "roles-2", "")
	if err != nil || d.Status != history.StatusTerminated {
		t.Fatalf("after terminate: %+v, %v", d, err)
	}
	if err := cl.Terminate(ctx, "roles-2", "", "again"); !errors.Is(err, client.ErrNotRunning) {
		t.Fatalf("second terminate: %v, want ErrNotRunning", err)
	}
	res, err := cl.Reset(ctx, "roles-2", client.ResetOptions{EventSeq: 2, Reason: "again"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run == other.Run {
		t.Fatalf("reset kept run %s", res.Run)
	}
	if err := cl.Signal(ctx, "roles-2", "", "go", "later"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Result(ctx, "roles-2", "", &got); err != nil || got != "stamped second+later" {
		t.Fatalf("reset run: %q, %v", got, err)
	}
	if _, err := cl.Reset(ctx, "roles-2", client.ResetOptions{EventSeq: 999}); !errors.Is(err, client.ErrInvalidReset) {
		t.Fatalf("reset past the end: %v, want ErrInvalidReset", err)
	}
	checkHistory(t, cl, "roles-2")

	// A reset request on one instance's subject naming another is refused.
	sneaky, err := store.NewResetRequest(names.ClientInboxSubject("default", "roles-2"), names.InstanceKey("roles-2"),
		store.ResetRequest{WorkflowID: "roles", EventSeq: 2, NewRun: "sneaky"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cliJS.PublishMsg(ctx, sneaky); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		m, err := dead.GetLastMsgForSubject(ctx, names.DeadLetterSubject("inbox"))
		if err != nil {
			return err
		}
		if r := m.Header.Get(streams.HeaderDeadReason); !strings.Contains(r, `reset request names workflow "roles"`) {
			return fmt.Errorf("last dead letter: %q", r)
		}
		return nil
	})
	if d, err := cl.Describe(ctx, "roles", ""); err != nil || d.Status != history.StatusCompleted {
		t.Fatalf("roles after the sneaky reset: %+v, %v", d, err)
	}

	// A start for a queue whose workers are all gone is not confirmed;
	// it stays queued, and the next worker starts the run.
	later := func() (stop func()) {
		w, err := worker.New(rs.conn(t, streams.RoleEngine, "engine"), "later")
		if err != nil {
			t.Fatal(err)
		}
		w.RegisterWorkflow(RoleFlow)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		select {
		case <-w.Ready():
		case err := <-done:
			t.Fatalf("worker: %v", err)
		}
		return func() { cancel(); <-done }
	}
	later()()
	short2, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := cl.Start(short2, client.StartOptions{ID: "queued", TaskQueue: "later"}, RoleFlow, "x"); !errors.Is(err, client.ErrNotConfirmed) {
		t.Fatalf("start on a queue nobody serves: %v, want ErrNotConfirmed", err)
	}
	defer later()()
	testutil.Eventually(t, 30*time.Second, func() error {
		d, err := cl.Describe(ctx, "queued", "")
		if err != nil {
			return err
		}
		if d.Status != history.StatusRunning {
			return fmt.Errorf("status %s", d.Status)
		}
		return nil
	})
	// The client's read side: task queues with their backlog, workers.
	qs, err := cl.TaskQueues(ctx)
	if err != nil || len(qs) == 0 {
		t.Fatalf("task queues as the client: %+v, %v", qs, err)
	}
	if _, err := cl.Workers(ctx); err != nil {
		t.Fatal(err)
	}
	rs.noViolations(t, "admin", "engine", "activity worker", "client")
}

// runWorker runs w until the test ends and waits for it to serve.
func runWorker(t *testing.T, w *worker.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("worker: %v", err)
		}
	})
	select {
	case <-w.Ready():
	case err := <-done:
		t.Fatalf("worker stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready")
	}
}

// TestIngressRole: the CloudEvents ingress runs with the ingress role and
// starts a workflow for an event a client sends as a request, with no
// permission violation; the ingress role cannot fire a timer.
func TestIngressRole(t *testing.T) {
	rs := newRoleServer(t)
	ctx := testCtx(t, time.Minute)
	adminJS, _ := jetstream.New(rs.conn(t, streams.RoleAdmin, "admin"))
	if err := streams.Ensure(ctx, adminJS, rs.ns); err != nil {
		t.Fatal(err)
	}
	triggers, err := cloudevents.OpenStore(ctx, adminJS, rs.ns)
	if err != nil {
		t.Fatal(err)
	}
	if err := triggers.Put(ctx, cloudevents.Trigger{Name: "orders", Type: "com.example.order", WorkflowType: "Echo",
		WorkflowID: "order-{{.data}}"}); err != nil {
		t.Fatal(err)
	}
	engine, err := worker.New(rs.conn(t, streams.RoleEngine, "engine"), "default")
	if err != nil {
		t.Fatal(err)
	}
	engine.RegisterWorkflow(Echo)
	runWorker(t, engine)

	inConn := rs.conn(t, streams.RoleIngress, "ingress")
	inClient, err := client.New(ctx, inConn, client.WithoutHistoryWrites())
	if err != nil {
		t.Fatal(err)
	}
	in, err := cloudevents.NewIngress(ctx, inConn, inClient)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- in.Serve(sctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	select {
	case <-in.Ready():
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}

	cli := rs.conn(t, streams.RoleClient, "client")
	msg := nats.NewMsg(cloudevents.EventsSubject(rs.ns, "orders"))
	msg.Header.Set("Ce-Specversion", "1.0")
	msg.Header.Set("Ce-Id", "e-1")
	msg.Header.Set("Ce-Source", "urn:shop")
	msg.Header.Set("Ce-Type", "com.example.order")
	msg.Header.Set("Content-Type", "application/json")
	msg.Data = []byte(`"42"`)
	testutil.Eventually(t, 30*time.Second, func() error {
		reply, err := cli.RequestMsg(msg, 5*time.Second)
		if err != nil {
			return err
		}
		if code := reply.Header.Get(cloudevents.HeaderRejectCode); code != "" {
			return fmt.Errorf("rejected: %s: %s", code, reply.Data)
		}
		return nil
	})
	cl, err := client.New(ctx, cli)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := cl.Result(ctx, "order-42", "", &got); err != nil {
		t.Fatal(err)
	}
	if got != "42" {
		t.Fatalf("result %q", got)
	}
	names := streams.NewNames(rs.ns)
	forger := rs.conn(t, streams.RoleIngress, "ingress forger")
	fire := store.NewTimerFired(names.InboxSubject("default", "order-42"), names.InstanceKey("order-42"), "r", 1)
	if err := forger.PublishMsg(fire); err != nil {
		t.Fatal(err)
	}
	rs.denied(t, "ingress forger", fire.Subject)
	rs.noViolations(t, "admin", "engine", "ingress", "client")
}
