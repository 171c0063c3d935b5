package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/examples/order"
)

var eventsURL = regexp.MustCompile(`POST to (http://\S+/v1/events)`)

// TestDevCloudEvents: cairn dev with a triggers file takes CloudEvents from
// `cairn event send` and HTTP, emits lifecycle events, and the trigger
// commands manage the bucket.
func TestDevCloudEvents(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "triggers.json")
	if err := os.WriteFile(file, []byte(`{"triggers":[
		{"name":"orders","type":"com.example.order.created","workflowType":"Workflow"}
	]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := startDev(t, "--data", t.TempDir(), "--port", "-1", "--log-level", "warn", "--triggers", file)
	m := eventsURL.FindStringSubmatch(dev.stdout.String())
	if m == nil {
		t.Fatalf("no HTTP endpoint in the banner:\n%s", dev.stdout)
	}
	httpURL := m[1]

	nc, err := nats.Connect(dev.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	lifecycle, err := nc.SubscribeSync("cairn.default.lifecycle.*.Workflow")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	send := func(args ...string) result {
		return mustCLI(t, append([]string{"event", "--server", dev.url, "send"}, args...)...)
	}
	r := send("--type", "com.example.order.created", "--source", "urn:test", "--id", "e-1", "--data", orderInput("e1", 0))
	id := cloudevents.DerivedWorkflowID("orders", "urn:test", "e-1")
	if !strings.Contains(r.stdout, "started workflow \""+id+"\"") {
		t.Fatalf("send output:\n%s", r)
	}
	r = send("--type", "com.example.order.created", "--source", "urn:test", "--id", "e-1", "--data", orderInput("e1", 0), "--binary")
	if !strings.Contains(r.stdout, "already started by this event") {
		t.Fatalf("second send output:\n%s", r)
	}
	r = mustCLI(t, dev.wf("result", "--id", id, "--timeout", "30s")...)
	var receipt order.Receipt
	if err := json.Unmarshal([]byte(r.stdout), &receipt); err != nil || receipt.Tracking != "trk_e1" {
		t.Fatalf("result %s: %v", r.stdout, err)
	}
	for _, want := range []string{"started", "completed"} {
		msg, err := lifecycle.NextMsg(testTimeout)
		if err != nil {
			t.Fatalf("lifecycle %s: %v", want, err)
		}
		ev, err := cloudevents.EventFromNATS(t.Context(), msg)
		if err != nil || ev.Type() != cloudevents.LifecycleTypePrefix+want || ev.Subject() != id {
			t.Fatalf("lifecycle event %v: %v", ev, err)
		}
	}

	// HTTP, structured mode.
	body := `{"specversion":"1.0","id":"h-1","source":"urn:curl","type":"com.example.order.created","datacontenttype":"application/json","data":` + orderInput("h1", 0) + `}`
	resp, err := http.Post(httpURL, "application/cloudevents+json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("HTTP status %d", resp.StatusCode)
	}
	mustCLI(t, dev.wf("result", "--id", cloudevents.DerivedWorkflowID("orders", "urn:curl", "h-1"), "--timeout", "30s")...)

	// Rejections are errors of the command.
	wantFail(t, exitError, "rejected (no-trigger)", "event", "--server", dev.url, "send", "--type", "com.example.nothing", "--source", "urn:test")
	wantFail(t, exitUsage, "--type and --source are required", "event", "--server", dev.url, "send", "--type", "x")

	// Trigger management.
	tr := func(args ...string) []string { return append([]string{"trigger", "--server", dev.url}, args...) }
	r = mustCLI(t, tr("add", "--name", "approvals", "--signal", "decision", "--type", "com.example.decision")...)
	if !strings.Contains(r.stdout, `signal "decision" on the event's subject`) {
		t.Fatalf("add output:\n%s", r)
	}
	r = mustCLI(t, tr("list")...)
	if !strings.Contains(r.stdout, "approvals") || !strings.Contains(r.stdout, "orders") {
		t.Fatalf("list output:\n%s", r)
	}
	r = mustCLI(t, tr("list", "--json")...)
	var cfg cloudevents.Config
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil || len(cfg.Triggers) != 2 {
		t.Fatalf("list --json:\n%s", r)
	}
	mustCLI(t, tr("remove", "--name", "approvals")...)
	wantFail(t, exitError, `trigger "approvals" not found`, tr("remove", "--name", "approvals")...)
	wantFail(t, exitUsage, "set exactly one of type and typePrefix", tr("add", "--name", "x", "--workflow-type", "Workflow")...)
}

// TestServerCommand: cairn server serves CloudEvents on an existing NATS
// server.
func TestServerCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	file := filepath.Join(t.TempDir(), "triggers.json")
	if err := os.WriteFile(file, []byte(`{"triggers":[
		{"name":"keyed","typePrefix":"com.example.order.","workflowType":"Workflow","workflowId":"order-{{.data.id}}"}
	]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startProcess(t, "server", "--nats", e.url, "--http", "127.0.0.1:0", "--triggers", file, "--log-level", "warn")
	eventually(t, func() string {
		if !strings.Contains(srv.stdout.String(), "cairn server is running") {
			return fmt.Sprintf("no banner:\n%s\n%s", srv.stdout, srv.stderr)
		}
		return ""
	})
	r := mustCLI(t, "event", "--server", e.url, "send", "--type", "com.example.order.placed", "--source", "urn:x", "--data", orderInput("s1", 0))
	if !strings.Contains(r.stdout, `started workflow "order-s1"`) {
		t.Fatalf("send output:\n%s", r)
	}
	mustCLI(t, e.wf("result", "--id", "order-s1", "--timeout", "30s")...)
}

// process is a long-running CLI command in a goroutine.
type process struct {
	stdout, stderr *syncBuffer
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, args, p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exit:
			if code != 0 {
				t.Errorf("cairn %s exited with %d:\n%s", args[0], code, p.stderr)
			}
		case <-time.After(testTimeout):
			t.Errorf("cairn %s did not stop", args[0])
		}
	})
	return p
}

var apiURLRe = regexp.MustCompile(`Management API: (http://\S+/v1) `)

// TestDevServesManagementAPI: cairn dev serves the management API next to
// CloudEvents on its HTTP listener: the OpenAPI document, and a demo order
// started, awaited and described over HTTP.
func TestDevServesManagementAPI(t *testing.T) {
	t.Parallel()
	dev := startDev(t, "--data", t.TempDir(), "--port", "-1", "--log-level", "warn")
	m := apiURLRe.FindStringSubmatch(dev.stdout.String())
	if m == nil {
		t.Fatalf("no management API in the banner:\n%s", dev.stdout)
	}
	base := m[1]
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get("/openapi.json"); status != http.StatusOK || !strings.Contains(body, `"openapi": "3.1.0"`) {
		t.Fatalf("openapi: %d %.200s", status, body)
	}
	// The web UI, on the same listener.
	if !strings.Contains(dev.stdout.String(), "Web UI: "+strings.TrimSuffix(base, "/v1")+"/") {
		t.Errorf("no web UI in the banner:\n%s", dev.stdout)
	}
	page, err := http.Get(strings.TrimSuffix(base, "/v1") + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(html), `<script type="module" src="/ui/app.js">`) {
		t.Fatalf("web UI: %d %.200s", page.StatusCode, html)
	}
	resp, err := http.Post(base+"/workflows", "application/json", strings.NewReader(`{"workflowType":"Workflow","workflowId":"api-1",
		"input":{"id":"9","customer":"ada","item":"book","quantity":1,"amountCents":100,"shipAfter":0}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	status, body := get("/workflows/api-1/result?wait=30s")
	if status != http.StatusOK || !strings.Contains(body, `"status": "completed"`) || !strings.Contains(body, "trk_9") {
		t.Fatalf("result: %d %s", status, body)
	}
	if status, body := get("/workflows/api-1"); status != http.StatusOK || !strings.Contains(body, `"workflowType": "Workflow"`) {
		t.Fatalf("describe: %d %s", status, body)
	}
}
