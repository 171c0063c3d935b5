package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
)

// devProcess is 'cairn dev' running in a goroutine.
type devProcess struct {
	url            string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	exit           chan int
}

var natsURL = regexp.MustCompile(`NATS URL:\s+(nats://\S+)`)

// startDev runs 'cairn dev args...' until stop is called and waits for its
// banner.
func startDev(t *testing.T, args ...string) *devProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := &devProcess{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, exit: make(chan int, 1)}
	go func() { d.exit <- run(ctx, append([]string{"dev"}, args...), d.stdout, d.stderr) }()
	t.Cleanup(func() { d.stop(t) })
	deadline := time.After(testTimeout)
	for {
		if m := natsURL.FindStringSubmatch(d.stdout.String()); m != nil {
			d.url = m[1]
			return d
		}
		select {
		case code := <-d.exit:
			d.exit <- code
			t.Fatalf("cairn dev exited with %d before its banner:\n%s\n%s", code, d.stdout, d.stderr)
		case <-deadline:
			t.Fatalf("no banner from cairn dev:\n%s\n%s", d.stdout, d.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop cancels dev (as SIGINT does) and checks it exits cleanly.
func (d *devProcess) stop(t *testing.T) {
	t.Helper()
	d.cancel()
	select {
	case code := <-d.exit:
		d.exit <- code // keep it for a second stop
		if code != 0 {
			t.Errorf("cairn dev exited with %d:\n%s", code, d.stderr)
		}
	case <-time.After(testTimeout):
		t.Fatalf("cairn dev did not stop:\n%s", d.stderr)
	}
}

func (d *devProcess) wf(args ...string) []string {
	return append([]string{"workflow", "--server", d.url}, args...)
}

func TestDevRestartKeepsWorkflows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	dev := startDev(t, "--data", dir, "--port", "-1", "--log-level", "warn", "--demo-start")
	banner := dev.stdout.String()
	for _, want := range []string{
		"go run ./cmd/cairn workflow start --type Workflow --id order-1 --input '" + demoInput + "' --server " + dev.url,
		"go run ./cmd/cairn workflow result --id order-1 --server " + dev.url,
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	eventually(t, func() string {
		if !strings.Contains(dev.stdout.String(), `Started demo order "demo-order"`) {
			return "--demo-start did not start the demo order:\n" + dev.stdout.String()
		}
		return ""
	})

	mustCLI(t, dev.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 0))...)
	r := mustCLI(t, dev.wf("result", "--id", "order-1", "--timeout", "30s")...)
	if !strings.Contains(r.stdout, `"tracking": "trk_1"`) {
		t.Fatalf("result: %s", r)
	}
	// order-2 sleeps across the restart; its timer is due while dev is down.
	mustCLI(t, dev.wf("start", "--type", "Workflow", "--id", "order-2", "--input", orderInput("2", 2*time.Second))...)
	eventually(t, func() string {
		r := mustCLI(t, dev.wf("describe", "--id", "order-2")...)
		if !strings.Contains(r.stdout, "Pending timers:") {
			return "order-2 not sleeping:\n" + r.stdout
		}
		return ""
	})
	dev.stop(t)
	if logs := dev.stderr.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("errors logged:\n%s", logs)
	}
	time.Sleep(2 * time.Second) // order-2's timer falls due while nothing runs

	dev = startDev(t, "--data", dir, "--port", "-1", "--log-level", "warn")
	r = mustCLI(t, dev.wf("describe", "--id", "order-1")...)
	if !strings.Contains(r.stdout, "Status:       completed") || !strings.Contains(r.stdout, "trk_1") {
		t.Fatalf("order-1 after restart:\n%s", r.stdout)
	}
	r = mustCLI(t, dev.wf("result", "--id", "order-2", "--timeout", "30s")...)
	if !strings.Contains(r.stdout, `"tracking": "trk_2"`) {
		t.Fatalf("order-2 did not resume after restart: %s", r)
	}
	r = mustCLI(t, dev.wf("list")...)
	for _, id := range []string{"order-1", "order-2", "demo-order"} {
		if !strings.Contains(r.stdout, id) {
			t.Errorf("list after restart lacks %s:\n%s", id, r.stdout)
		}
	}
	dev.stop(t)
}

func TestDevNoDemo(t *testing.T) {
	t.Parallel()
	dev := startDev(t, "--data", t.TempDir(), "--port", "0", "--namespace", "nodemo", "--no-demo", "--log-level", "error")
	if out := dev.stdout.String(); !strings.Contains(out, "--no-demo") || strings.Contains(out, "workflow start") {
		t.Errorf("banner:\n%s", out)
	}
	// The namespace is provisioned but nothing is registered.
	wantFail(t, exitError, "unknown workflow type", dev.wf("start", "--namespace", "nodemo", "--type", "Workflow")...)
	r := mustCLI(t, dev.wf("list", "--namespace", "nodemo")...)
	if strings.TrimSpace(r.stdout) != "No workflows." {
		t.Errorf("list: %q", r.stdout)
	}
}

func TestDevPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	r := wantFail(t, exitError, "port "+port+" on 127.0.0.1 is already in use", "dev", "--data", t.TempDir(), "--port", port)
	if !strings.Contains(r.stderr, "--port") {
		t.Errorf("no hint at --port: %q", r.stderr)
	}
}

// TestResultWaitsAcrossRestart: 'workflow result' keeps waiting while
// 'cairn dev' restarts on the same port, and gets the result afterwards.
func TestResultWaitsAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev := startDev(t, "--data", dir, "--port", "-1", "--log-level", "info")
	first := dev
	port := dev.url[strings.LastIndexByte(dev.url, ':')+1:]
	mustCLI(t, dev.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 3*time.Second))...)

	waited := make(chan result, 1)
	go func() {
		var out, errOut syncBuffer
		code := run(t.Context(), dev.wf("result", "--id", "order-1", "--timeout", "45s"), &out, &errOut)
		waited <- result{stdout: out.String(), stderr: errOut.String(), code: code}
	}()
	time.Sleep(500 * time.Millisecond)
	dev.stop(t)
	time.Sleep(2500 * time.Millisecond) // longer than the client's 2 s re-read period
	dev = startDev(t, "--data", dir, "--port", port, "--log-level", "info")

	select {
	case r := <-waited:
		if r.code != 0 || !strings.Contains(r.stdout, `"tracking": "trk_1"`) {
			// What the run did and what both dev processes logged.
			var h, herr syncBuffer
			run(context.Background(), dev.wf("history", "--id", "order-1"), &h, &herr)
			t.Fatalf("result across a restart: %s\n--- history:\n%s%s\n--- first cairn dev:\n%s\n--- second cairn dev:\n%s",
				r, h.String(), herr.String(), first.stderr, dev.stderr)
		}
	case <-time.After(testTimeout):
		t.Fatal("result did not return")
	}
}

func TestDevDataDirInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startDev(t, "--data", dir, "--port", "-1", "--no-demo", "--log-level", "error")
	wantFail(t, exitError, "is in use by another process", "dev", "--data", dir, "--port", "-1", "--no-demo")
}

// TestDevCluster: 'cairn dev --cluster 3' runs three nodes with the
// namespace at R3, and every command takes the list of their URLs.
func TestDevCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev := startDev(t, "--cluster", "3", "--data", dir, "--port", "-1", "--log-level", "warn", "--http", "off", "--metrics", "off")
	urls := strings.Split(dev.url, ",")
	if len(urls) != 3 {
		t.Fatalf("banner URL %q is not a list of 3", dev.url)
	}
	banner := dev.stdout.String()
	for _, want := range []string{"cluster:", "3 nodes (node-1, node-2, node-3)", "default (3 replicas)", "--server " + dev.url} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	for _, node := range []string{"node-1", "node-2", "node-3"} {
		if _, err := os.Stat(filepath.Join(dir, node, "jetstream")); err != nil {
			t.Errorf("store of %s: %v", node, err)
		}
	}

	mustCLI(t, dev.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", 0))...)
	// Any one live URL of the list is enough.
	r := mustCLI(t, "workflow", "--server", "nats://127.0.0.1:1,"+urls[2], "result", "--id", "order-1", "--timeout", "30s")
	if !strings.Contains(r.stdout, `"tracking": "trk_1"`) {
		t.Fatalf("result: %s", r)
	}

	// cairn server provisions another namespace on the cluster at R3; its
	// triggers bucket follows the namespace.
	srv := startProcess(t, "server", "--server", dev.url, "--namespace", "other", "--replicas", "3", "--http", "off", "--log-level", "warn")
	eventually(t, func() string {
		if !strings.Contains(srv.stdout.String(), "cairn server is running") {
			return fmt.Sprintf("no banner:\n%s\n%s", srv.stdout, srv.stderr)
		}
		return ""
	})
	nc, err := streams.Connect(dev.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"default", "other"} {
		n := streams.NewNames(ns)
		for _, stream := range []string{n.HistoryStream(), n.InboxStream(), n.TasksStream(), "KV_" + n.InstancesBucket(), "KV_cairn-" + ns + "-triggers"} {
			s, err := js.Stream(t.Context(), stream)
			if err != nil {
				t.Fatalf("%s: %v", stream, err)
			}
			if r := s.CachedInfo().Config.Replicas; r != 3 {
				t.Errorf("%s has %d replicas, want 3", stream, r)
			}
		}
	}
}

// TestDevAuth: cairn dev --auth admits only its role users. It writes a
// seed per role (mode 0600) and the server's authorization block; the
// client role lists and starts workflows that the engine role serves, a
// connection without credentials is refused, and a restart keeps the keys.
func TestDevAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := []string{"--auth", "--data", dir, "--port", "0", "--http", "off", "--metrics", "off", "--log-level", "error"}
	dev := startDev(t, args...)
	seeds := map[string]string{}
	for _, r := range streams.Roles {
		file := filepath.Join(dir, devAuthDir, string(r)+".nk")
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", file, st.Mode().Perm())
		}
		b, _ := os.ReadFile(file)
		seeds[string(r)] = string(b)
		if !strings.Contains(dev.stdout.String(), "--nkey "+file+" --role "+string(r)) {
			t.Errorf("the banner does not show how role %s connects:\n%s", r, dev.stdout)
		}
	}
	if conf, err := os.ReadFile(filepath.Join(dir, devAuthDir, authConfFile)); err != nil || !strings.Contains(string(conf), "authorization {") {
		t.Fatalf("%s: %v\n%s", authConfFile, err, conf)
	}
	client := func(args ...string) []string {
		return append(dev.wf(args...), "--nkey", filepath.Join(dir, devAuthDir, "client.nk"), "--role", "client")
	}
	wantFail(t, exitError, "Authorization Violation", dev.wf("list")...)
	mustCLI(t, client("start", "--type", "Workflow", "--id", "auth-1", "--input",
		`{"id":"1","customer":"ada","item":"book","quantity":1,"amountCents":1299,"shipAfter":0}`)...)
	r := mustCLI(t, client("result", "--id", "auth-1")...)
	if !strings.Contains(r.stdout, "trk_1") {
		t.Fatalf("result: %s", r.stdout)
	}
	// The client role writes no history: the engine terminates for it.
	mustCLI(t, client("start", "--type", "Workflow", "--id", "auth-2", "--input",
		`{"id":"2","customer":"ada","item":"book","quantity":1,"amountCents":1299,"shipAfter":3600000000000}`)...)
	mustCLI(t, client("terminate", "--id", "auth-2", "--reason", "test")...)
	if r := mustCLI(t, client("describe", "--id", "auth-2")...); !strings.Contains(r.stdout, "terminated") {
		t.Fatalf("describe after terminate:\n%s", r.stdout)
	}
	wantFail(t, exitUsage, "--role \"root\"", append(dev.wf("list"), "--role", "root")...)
	dev.stop(t)

	startDev(t, args...)
	for _, r := range streams.Roles {
		b, _ := os.ReadFile(filepath.Join(dir, devAuthDir, string(r)+".nk"))
		if string(b) != seeds[string(r)] {
			t.Errorf("role %s has a new key after a restart", r)
		}
	}
}
