package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/internal/testutil"
)

var (
	serverEventsURL = regexp.MustCompile(`CloudEvents on HTTP: POST (\S+)`)
	metricsURL      = regexp.MustCompile(`Metrics \(Prometheus format\): (\S+)`)
)

func writeTokens(t *testing.T, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// do sends a request with an optional bearer token and returns the status,
// the WWW-Authenticate header and the body.
func do(t *testing.T, c *http.Client, method, url, token, contentType, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
}

// TestServerHTTPTokensAndTLS: cairn server with a token file and a
// certificate serves the events endpoint over HTTPS to token bearers only.
func TestServerHTTPTokensAndTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	cert, key, pool := testutil.SelfSignedCert(t, dir)
	tokens := writeTokens(t, "# current and next key\nold-key\n\nnew-key\n")
	triggers := filepath.Join(dir, "triggers.json")
	if err := os.WriteFile(triggers, []byte(`{"triggers":[
		{"name":"keyed","typePrefix":"com.example.order.","workflowType":"Workflow","workflowId":"order-{{.data.id}}"}
	]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startProcess(t, "server", "--nats", e.url, "--http", "127.0.0.1:0", "--triggers", triggers, "--log-level", "warn",
		"--http-token-file", tokens, "--http-tls-cert", cert, "--http-tls-key", key)
	var url string
	eventually(t, func() string {
		m := serverEventsURL.FindStringSubmatch(srv.stdout.String())
		if m == nil {
			return fmt.Sprintf("no HTTP endpoint in the banner:\n%s\n%s", srv.stdout, srv.stderr)
		}
		url = m[1]
		return ""
	})
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("endpoint %s is not HTTPS", url)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := func(id string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"urn:tls","type":"com.example.order.placed","datacontenttype":"application/json","data":` + orderInput(id, 0) + `}`
	}
	for _, token := range []string{"", "wrong", "# current and next key"} {
		code, auth, b := do(t, c, http.MethodPost, url, token, "application/cloudevents+json", body("denied"))
		if code != http.StatusUnauthorized || !strings.HasPrefix(auth, "Bearer") || !strings.Contains(b, `"status":401`) {
			t.Fatalf("token %q: %d %q %s", token, code, auth, b)
		}
	}
	for _, token := range []string{"old-key", "new-key"} {
		id := "tls-" + token
		if code, _, b := do(t, c, http.MethodPost, url, token, "application/cloudevents+json", body(id)); code != http.StatusAccepted {
			t.Fatalf("token %q: %d %s", token, code, b)
		}
		mustCLI(t, e.wf("result", "--id", "order-"+id, "--timeout", "30s")...)
	}
	// Plain HTTP on the TLS port gets no event in.
	plain := strings.Replace(url, "https://", "http://", 1)
	if code, _, _ := do(t, http.DefaultClient, http.MethodPost, plain, "old-key", "application/cloudevents+json", body("plain")); code < 400 {
		t.Fatalf("plain HTTP answered %d", code)
	}
	if strings.Contains(srv.stderr.String(), "without authentication") {
		t.Fatalf("warned although tokens are set:\n%s", srv.stderr)
	}
}

// TestServerWarnsWhenOpenToTheNetwork: no tokens on an address other
// machines can reach is logged; on loopback it is not.
func TestServerWarnsWhenOpenToTheNetwork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	open := startProcess(t, "server", "--nats", e.url, "--namespace", "open", "--http", "0.0.0.0:0", "--log-level", "warn")
	local := startProcess(t, "server", "--nats", e.url, "--namespace", "local", "--http", "127.0.0.1:0", "--log-level", "warn")
	for _, p := range []*process{open, local} {
		eventually(t, func() string {
			if !strings.Contains(p.stdout.String(), "cairn server is running") {
				return fmt.Sprintf("no banner:\n%s\n%s", p.stdout, p.stderr)
			}
			return ""
		})
	}
	if !strings.Contains(open.stderr.String(), "without authentication") {
		t.Fatalf("no warning for an open endpoint on 0.0.0.0:\n%s", open.stderr)
	}
	if strings.Contains(local.stderr.String(), "without authentication") {
		t.Fatalf("warning for an endpoint on loopback:\n%s", local.stderr)
	}
}

// TestDevTokensProtectEveryEndpoint: the tokens of cairn dev guard the
// events endpoint and /metrics alike.
func TestDevTokensProtectEveryEndpoint(t *testing.T) {
	t.Parallel()
	tokens := writeTokens(t, "dev-key\n")
	dev := startDev(t, "--data", t.TempDir(), "--port", "-1", "--no-demo", "--log-level", "warn", "--http-token-file", tokens)
	events := eventsURL.FindStringSubmatch(dev.stdout.String())
	metrics := metricsURL.FindStringSubmatch(dev.stdout.String())
	if events == nil || metrics == nil {
		t.Fatalf("endpoints not in the banner:\n%s", dev.stdout)
	}
	c := http.DefaultClient
	if code, auth, _ := do(t, c, http.MethodGet, metrics[1], "", "", ""); code != http.StatusUnauthorized || auth == "" {
		t.Fatalf("metrics without a token: %d %q", code, auth)
	}
	if code, _, b := do(t, c, http.MethodGet, metrics[1], "dev-key", "", ""); code != http.StatusOK || !strings.Contains(b, "cairn_events_dropped") {
		t.Fatalf("metrics with the token: %d %.200s", code, b)
	}
	// A hostile binary-mode request, authenticated: answered 400, not a
	// closed connection.
	req, _ := http.NewRequest(http.MethodPost, events[1], strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer dev-key")
	req.Header["Ce-"] = []string{"x"}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("empty Ce- header: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if code, _, _ := do(t, c, http.MethodPost, events[1], "", "application/cloudevents+json", `{}`); code != http.StatusUnauthorized {
		t.Fatalf("events without a token: %d", code)
	}
}

func TestHTTPEdgeFlagErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, _, _ := testutil.SelfSignedCert(t, dir)
	wantFail(t, exitUsage, "--http-tls-cert and --http-tls-key go together", "server", "--nats", "nats://127.0.0.1:1", "--http-tls-cert", cert)
	wantFail(t, exitError, "--http-token-file", "server", "--nats", "nats://127.0.0.1:1", "--http-token-file", filepath.Join(dir, "missing"))
	wantFail(t, exitError, "holds no token", "dev", "--data", t.TempDir(), "--port", "-1", "--http-token-file", writeTokens(t, "# none yet\n"))
	wantFail(t, exitError, "--http-tls-cert/--http-tls-key", "server", "--nats", "nats://127.0.0.1:1", "--http-tls-cert", cert, "--http-tls-key", cert)
}
