package main

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/examples/order"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

// testTimeout bounds every wait of a test, so a broken engine fails the
// test instead of hanging it.
const testTimeout = 60 * time.Second

// result is the outcome of one CLI invocation.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "--- stderr:\n" + r.stderr
}

// cli runs the CLI in-process.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func mustCLI(t *testing.T, args ...string) result {
	t.Helper()
	r := cli(t, args...)
	if r.code != 0 {
		t.Fatalf("cairn %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// wantFail runs the CLI and checks the exit code and that stderr contains
// want.
func wantFail(t *testing.T, code int, want string, args ...string) result {
	t.Helper()
	r := cli(t, args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("cairn %s: want exit %d and stderr containing %q, got %s", strings.Join(args, " "), code, want, r)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
		t.Errorf("error is not short: %q", r.stderr)
	}
	return r
}

// env is an embedded server with a worker serving examples/order (and the
// test workflows below) on task queue "default".
type env struct {
	url string
	nc  *nats.Conn
}

// Panicky is a workflow whose code panics: its runs are parked.
func Panicky(ctx workflow.Context, in string) (string, error) {
	panic("boom: " + in)
}

// tokens hands the callback tokens of AwaitsCallback to the tests.
var tokens sync.Map

// AwaitsCallback waits for an external party to complete a callback.
func AwaitsCallback(ctx workflow.Context, id string) (string, error) {
	return workflow.WaitForCallback[string](ctx, "approval", func(token string) error {
		tokens.Store(id, token)
		return nil
	}, workflow.CallbackOptions{Timeout: time.Hour})
}

// Counter answers the query "count" with the number of "tick" events.
func Counter(ctx workflow.Context, _ struct{}) (int, error) {
	n := 0
	workflow.SetQueryHandler(ctx, "count", func(plus int) (int, error) { return n + plus, nil })
	for {
		if _, err := workflow.ReceiveSignal[struct{}](ctx, "tick"); err != nil {
			return n, err
		}
		n++
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	srv, err := embedded.StartServer(ctx, embedded.WithDataDir(t.TempDir()), embedded.WithHost("127.0.0.1"), embedded.WithPort(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	e := &env{url: srv.ClientURL()}
	e.nc, err = streams.Connect(e.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.nc.Close)
	e.startWorker(t, "default", true)
	return e
}

// startWorker runs a worker on queue until the test ends (or until the
// returned function is called) and waits until it is live.
func (e *env) startWorker(t *testing.T, queue string, withTestWorkflows bool) (stop func()) {
	t.Helper()
	w, err := worker.New(e.nc, queue)
	if err != nil {
		t.Fatal(err)
	}
	w.RegisterWorkflow(order.Workflow)
	for _, a := range []any{order.Charge, order.Refund, order.Reserve, order.Release, order.Ship} {
		w.RegisterActivity(a)
	}
	if withTestWorkflows {
		w.RegisterWorkflow(Panicky)
		w.RegisterWorkflow(AwaitsCallback)
		w.RegisterWorkflow(Counter)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	if err := waitWorkerReady(t.Context(), w, done); err != nil {
		t.Fatal(err)
	}
	return stop
}

// wf runs a workflow command against the env; the global flag goes before
// the command, as 'cairn workflow --server URL <cmd>'.
func (e *env) wf(args ...string) []string {
	return append([]string{"workflow", "--server", e.url}, args...)
}

// eventually retries check until it returns "" or the test times out; the
// last complaint is the failure message.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	testutil.Eventually(t, testTimeout, func() error {
		if msg := check(); msg != "" {
			return errors.New(msg)
		}
		return nil
	})
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"workflow"}, "missing command"},
		{[]string{"workflow", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"workflow", "start"}, "--type is required"},
		{[]string{"workflow", "start", "--type", "W", "--reuse", "sometimes"}, "--reuse"},
		{[]string{"workflow", "start", "--type", "W", "--input", "1", "--input-file", "f"}, "mutually exclusive"},
		{[]string{"workflow", "start", "--type", "W", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"workflow", "start", "--type", "W", "--timeout", "1s"}, "--timeout only applies with --wait"},
		{[]string{"workflow", "result", "--id", "x", "--timeout", "-1s"}, "--timeout must not be negative"},
		{[]string{"workflow", "describe"}, "--id is required"},
		{[]string{"workflow", "describe", "--id", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"workflow", "history", "--run", "r"}, "--id is required"},
		{[]string{"workflow", "result"}, "--id is required"},
		{[]string{"workflow", "cancel"}, "--id is required"},
		{[]string{"workflow", "terminate"}, "--id is required"},
		{[]string{"workflow", "list", "--status", "sleeping"}, "--status"},
		{[]string{"workflow", "list", "--limit", "-1"}, "--limit"},
		{[]string{"workflow", "list", "--namespace", "a.b"}, "--namespace"},
		{[]string{"dev", "--port", "70000"}, "--port"},
		{[]string{"dev", "--log-level", "loud"}, "--log-level"},
		{[]string{"dev", "--no-demo", "--demo-start"}, "--demo-start"},
		{[]string{"dev", "--cluster", "2"}, "--cluster 2: want 1 (a single server), 3 or 5"},
		{[]string{"dev", "--replicas", "3"}, "add --cluster 3"},
		{[]string{"dev", "--cluster", "3", "--replicas", "4"}, "add --cluster 5"},
		{[]string{"dev", "--cluster", "3", "--replicas", "0"}, "--replicas 0: want 1-5"},
		{[]string{"server", "--replicas", "6"}, "--replicas 6: want 1-5"},
		{[]string{"workflow", "list", "--server", " , "}, "--server must not be empty"},
		{[]string{"dev", "--host", "0.0.0.0"}, "listens on loopback only"},
		{[]string{"dev", "--host", "10.1.2.3"}, "listens on loopback only"},
		{[]string{"workflow", "list", "--user", "u", "--token", "t"}, "give one way to authenticate"},
		{[]string{"workflow", "list", "--password", "p"}, "a password without a user"},
		{[]string{"server", "--tls-cert", "c.pem"}, "needs its key"},
		{[]string{"event", "send", "--type", "t", "--source", "s", "--creds", "/nonexistent.creds"}, "credentials file"},
		{[]string{"version", "extra"}, "unexpected argument"},
	} {
		r := cli(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("cairn %s: want exit 2 and %q, got %s", strings.Join(tc.args, " "), tc.want, r)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"help"}, {"-h"}, {"workflow", "-h"}, {"workflow", "help"}, {"dev", "-h"}, {"version", "-h"},
		{"workflow", "start", "-h"}, {"workflow", "describe", "--help"}, {"workflow", "history", "-h"},
		{"workflow", "result", "-h"}, {"workflow", "cancel", "-h"}, {"workflow", "terminate", "-h"}, {"workflow", "list", "-h"},
	} {
		r := cli(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") || r.stderr != "" {
			t.Errorf("cairn %s: %s", strings.Join(args, " "), r)
		}
	}
	r := cli(t, "workflow", "start", "-h")
	for _, flag := range []string{"-type", "-id", "-queue", "-input", "-input-file", "-reuse", "-wait", "-server", "-namespace"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("start -h does not document %s:\n%s", flag, r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := mustCLI(t, "version")
	if !strings.HasPrefix(r.stdout, "cairn ") || !strings.Contains(r.stdout, "go1.") || !strings.Contains(r.stdout, "nats-server") {
		t.Fatalf("version output: %q", r.stdout)
	}
}

func TestNoServer(t *testing.T) {
	t.Parallel()
	wantFail(t, exitError, "cannot reach a NATS server at nats://127.0.0.1:1", "workflow", "list", "--server", "nats://127.0.0.1:1")
}
