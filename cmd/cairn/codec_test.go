package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/examples/order"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

// writeTestKeyFile writes a key file with one fresh key named kid.
func writeTestKeyFile(t *testing.T, kid string) string {
	t.Helper()
	key := make([]byte, converter.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte("# test\n"+kid+" "+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newSealedEnv is newEnv with a worker that encrypts payloads with the
// keys of keyFile.
func newSealedEnv(t *testing.T, keyFile string) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	srv, err := embedded.StartServer(ctx, embedded.WithDataDir(t.TempDir()), embedded.WithHost("127.0.0.1"), embedded.WithPort(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	e := &env{url: srv.ClientURL()}
	if e.nc, err = streams.Connect(e.url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.nc.Close)
	keys, err := converter.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(e.nc, "default", worker.WithDataConverter(dc))
	if err != nil {
		t.Fatal(err)
	}
	w.RegisterWorkflow(order.Workflow)
	for _, a := range []any{order.Charge, order.Refund, order.Reserve, order.Release, order.Ship} {
		w.RegisterActivity(a)
	}
	w.RegisterWorkflow(Counter)
	w.RegisterWorkflow(AwaitsCallback)
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(wctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { stop(); <-done }) })
	if err := waitWorkerReady(t.Context(), w, done); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestKeyFileEncryptsAndDecrypts(t *testing.T) {
	t.Parallel()
	keys := writeTestKeyFile(t, "ops-2026")
	e := newSealedEnv(t, keys)

	// start encrypts the input with the key; --wait decrypts the result.
	r := mustCLI(t, e.wf("start", "--key-file", keys, "--type", "Workflow", "--id", "sealed-1",
		"--input", orderInput("s1", 0), "--wait", "--timeout", "30s")...)
	if !strings.Contains(r.stdout, `"tracking": "trk_s1"`) {
		t.Fatalf("start --wait with the key:\n%s", r)
	}
	r = mustCLI(t, e.wf("result", "--key-file", keys, "--id", "sealed-1")...)
	var got order.Receipt
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Tracking != "trk_s1" {
		t.Fatalf("result with the key: %v\n%s", err, r)
	}

	// Without the key: the envelope, and a note saying so.
	r = mustCLI(t, e.wf("result", "--id", "sealed-1")...)
	if kid, ok := converter.EnvelopeKeyID([]byte(r.stdout)); !ok || kid != "ops-2026" || strings.Contains(r.stdout, "trk_s1") {
		t.Fatalf("result without the key:\n%s", r)
	}
	if !strings.Contains(r.stderr, `encrypted with key "ops-2026"`) {
		t.Fatalf("no note about the encryption:\n%s", r)
	}

	// history and describe show values with the key, markers without.
	r = mustCLI(t, e.wf("history", "--id", "sealed-1")...)
	if !strings.Contains(r.stdout, `[encrypted, key "ops-2026"]`) || strings.Contains(r.stdout, "trk_s1") || strings.Contains(r.stdout, "ch_s1") {
		t.Fatalf("history without the key:\n%s", r.stdout)
	}
	r = mustCLI(t, e.wf("history", "--key-file", keys, "--id", "sealed-1")...)
	if strings.Contains(r.stdout, "[encrypted") || !strings.Contains(r.stdout, "trk_s1") || !strings.Contains(r.stdout, "ch_s1_1") {
		t.Fatalf("history with the key:\n%s", r.stdout)
	}
	// The flag is global: it also works before the command name.
	r = mustCLI(t, "workflow", "--server", e.url, "--key-file", keys, "describe", "--id", "sealed-1")
	if !strings.Contains(r.stdout, "trk_s1") {
		t.Fatalf("describe with the key:\n%s", r.stdout)
	}
	// A key file without the payload's key: an error naming the key, never
	// the envelope taken for the value.
	other := writeTestKeyFile(t, "other")
	wantFail(t, exitError, `unknown encryption key id (key id "ops-2026")`, e.wf("result", "--key-file", other, "--id", "sealed-1")...)
	r = mustCLI(t, e.wf("history", "--key-file", other, "--id", "sealed-1")...)
	if !strings.Contains(r.stdout, `[encrypted, key "ops-2026": converter: unknown encryption key id]`) {
		t.Fatalf("history with another key file:\n%s", r.stdout)
	}
	r = mustCLI(t, e.wf("describe", "--id", "sealed-1", "--json")...)
	if strings.Contains(r.stdout, "trk_s1") || !strings.Contains(r.stdout, `"cairn-enc"`) {
		t.Fatalf("describe --json without the key:\n%s", r.stdout)
	}
}

func TestKeyFileSignalAndQuery(t *testing.T) {
	t.Parallel()
	keys := writeTestKeyFile(t, "k1")
	e := newSealedEnv(t, keys)
	mustCLI(t, e.wf("start", "--key-file", keys, "--type", "Counter", "--id", "count-1", "--input", "{}")...)
	mustCLI(t, e.wf("signal", "--key-file", keys, "--id", "count-1", "--name", "tick", "--input", "{}")...)
	// The query's argument and answer cross the wire encrypted too; the
	// signal is counted once it is in history, so wait for it.
	eventually(t, func() string {
		r := cli(t, e.wf("query", "--key-file", keys, "--id", "count-1", "--name", "count", "--input", "10")...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != "11" {
			return "query: " + r.String()
		}
		return ""
	})
	// Without the key the worker refuses the clear signal payload: the run
	// fails instead of running on data that bypassed encryption.
	mustCLI(t, e.wf("signal", "--id", "count-1", "--name", "tick", "--input", `{"x":1}`)...)
	wantFail(t, exitError, "not encrypted", e.wf("result", "--key-file", keys, "--id", "count-1", "--timeout", "30s")...)
}

func TestKeyFileCallback(t *testing.T) {
	t.Parallel()
	keys := writeTestKeyFile(t, "k1")
	e := newSealedEnv(t, keys)
	mustCLI(t, e.wf("start", "--key-file", keys, "--type", "AwaitsCallback", "--id", "sealed-cb", "--input", `"sealed-cb"`)...)
	var token string
	eventually(t, func() string {
		if v, ok := tokens.Load("sealed-cb"); ok {
			token = v.(string)
			return ""
		}
		return "no token yet"
	})
	mustCLI(t, "callback", "--server", e.url, "succeed", token, "--key-file", keys, "--output", `"approved-in-secret"`)
	r := mustCLI(t, e.wf("result", "--key-file", keys, "--id", "sealed-cb", "--timeout", "30s")...)
	if !strings.Contains(r.stdout, `"approved-in-secret"`) {
		t.Fatalf("result: %s", r)
	}
	r = mustCLI(t, e.wf("history", "--id", "sealed-cb", "--json")...) // the stored form
	if strings.Contains(r.stdout, "approved-in-secret") {
		t.Fatalf("the callback result is in clear in history:\n%s", r.stdout)
	}
}

// A schedule created with the key stores its input encrypted; the runs it
// starts (from the worker's scheduler) carry it as stored.
func TestKeyFileSchedule(t *testing.T) {
	t.Parallel()
	keys := writeTestKeyFile(t, "k1")
	e := newSealedEnv(t, keys)
	mustCLI(t, e.sched("create", "--key-file", keys, "--id", "sealed-nightly", "--spec", "@daily", "--type", "Workflow",
		"--input", orderInput("n1", 0), "--paused")...)
	r := mustCLI(t, e.sched("describe", "--id", "sealed-nightly")...)
	if strings.Contains(r.stdout, "ada") || !strings.Contains(r.stdout, `[encrypted, key "k1"]`) {
		t.Fatalf("describe without the key:\n%s", r.stdout)
	}
	r = mustCLI(t, e.sched("describe", "--key-file", keys, "--id", "sealed-nightly")...)
	if !strings.Contains(r.stdout, `"customer":"ada"`) {
		t.Fatalf("describe with the key:\n%s", r.stdout)
	}
	r = mustCLI(t, e.sched("trigger", "--id", "sealed-nightly")...)
	m := regexp.MustCompile(`the run is "([^"]+)"`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("trigger output:\n%s", r)
	}
	eventually(t, func() string {
		r := cli(t, e.wf("result", "--key-file", keys, "--id", m[1], "--timeout", "30s")...)
		if r.code != 0 || !strings.Contains(r.stdout, `"tracking": "trk_n1"`) {
			return "result of the scheduled run: " + r.String()
		}
		return ""
	})
}

func TestKeyFileErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("k1 short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantFail(t, exitError, "--key-file", e.wf("describe", "--key-file", bad, "--id", "x")...)
	wantFail(t, exitError, "--key-file", e.wf("describe", "--key-file", bad+".missing", "--id", "x")...)
}

// CAIRN_KEY_FILE is the flag's default, as CAIRN_SERVER is --server's.
// Not parallel: it sets the process environment.
func TestKeyFileFromEnv(t *testing.T) {
	t.Setenv(envKeyFile, "from-env.keys")
	g := defaultGlobals()
	fs := flag.NewFlagSet("cairn workflow", flag.ContinueOnError)
	g.register(fs)
	if g.codec.keyFile != "from-env.keys" {
		t.Fatalf("key file %q, want the env var's", g.codec.keyFile)
	}
	if err := fs.Parse([]string{"--key-file", "from-flag.keys"}); err != nil {
		t.Fatal(err)
	}
	if g.codec.keyFile != "from-flag.keys" {
		t.Fatalf("key file %q, want the flag's", g.codec.keyFile)
	}
}

// cairn server --key-file encrypts the inputs of workflows started by
// events, so workers that refuse clear payloads run them.
func TestServerKeyFileEncryptsEventInputs(t *testing.T) {
	t.Parallel()
	keys := writeTestKeyFile(t, "k1")
	e := newSealedEnv(t, keys)
	file := filepath.Join(t.TempDir(), "triggers.json")
	if err := os.WriteFile(file, []byte(`{"triggers":[
		{"name":"keyed","typePrefix":"com.example.order.","workflowType":"Workflow","workflowId":"order-{{.data.id}}"}
	]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startProcess(t, "server", "--nats", e.url, "--http", "off", "--triggers", file, "--log-level", "warn", "--key-file", keys)
	eventually(t, func() string {
		if !strings.Contains(srv.stdout.String(), "cairn server is running") {
			return "no banner:\n" + srv.stdout.String() + srv.stderr.String()
		}
		return ""
	})
	mustCLI(t, "event", "--server", e.url, "send", "--type", "com.example.order.placed", "--source", "urn:x", "--data", orderInput("ev1", 0))
	r := mustCLI(t, e.wf("result", "--key-file", keys, "--id", "order-ev1", "--timeout", "30s")...)
	if !strings.Contains(r.stdout, `"tracking": "trk_ev1"`) {
		t.Fatalf("result:\n%s", r)
	}
	r = mustCLI(t, e.wf("history", "--id", "order-ev1")...)
	if strings.Contains(r.stdout, "ada") || !strings.Contains(r.stdout, `input=[encrypted, key "k1"]`) {
		t.Fatalf("history without the key shows the event's data:\n%s", r.stdout)
	}
}

// cairn dev --key-file runs the demo worker and the demo order encrypted.
func TestDevKeyFile(t *testing.T) {
	t.Parallel()
	keys := writeTestKeyFile(t, "dev-1")
	dev := startDev(t, "--data", t.TempDir(), "--port", "-1", "--log-level", "warn", "--key-file", keys)
	mustCLI(t, dev.wf("start", "--key-file", keys, "--type", "Workflow", "--id", "order-d1", "--input", orderInput("d1", 0))...)
	r := mustCLI(t, dev.wf("result", "--key-file", keys, "--id", "order-d1", "--timeout", "30s")...)
	if !strings.Contains(r.stdout, `"tracking": "trk_d1"`) {
		t.Fatalf("result with the key:\n%s", r)
	}
	r = mustCLI(t, dev.wf("result", "--id", "order-d1")...)
	if kid, ok := converter.EnvelopeKeyID([]byte(r.stdout)); !ok || kid != "dev-1" {
		t.Fatalf("result without the key:\n%s", r)
	}
	wantFail(t, exitError, "--key-file", "dev", "--data", t.TempDir(), "--port", "-1", "--key-file", keys+".missing")
}
