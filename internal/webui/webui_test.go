package webui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/httpapi"
	"github.com/cairnhq/cairn/internal/webui"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/testenv"
)

// Greeter waits for the signal "greeting" and returns it with its input.
func Greeter(ctx workflow.Context, name string) (string, error) {
	greeting, err := workflow.ReceiveSignal[string](ctx, "greeting")
	if err != nil {
		return "", err
	}
	return greeting + ", " + name, nil
}

// server serves the UI and the API over a real engine, as cairn dev does.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Greeter) })
	api := httpapi.New(env.Client(t), nil)
	mux := http.NewServeMux()
	mux.Handle("/v1/", api.Handler())
	mux.Handle("/", webui.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		api.Close()
		srv.Close()
	})
	return srv
}

// TestServesPageAndAssets: the page at /, its assets under /ui/, with a
// content security policy that allows only the server's own scripts.
func TestServesPageAndAssets(t *testing.T) {
	srv := httptest.NewServer(webui.Handler())
	t.Cleanup(srv.Close)
	for path, want := range map[string]string{"/": "text/html", "/ui/app.js": "javascript", "/ui/app.css": "text/css"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if path == "/" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("no CSP on the page: %v", resp.Header)
		}
	}
	if resp, err := http.Get(srv.URL + "/ui/nothing.js"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset: %v %v", resp, err)
	}
}

// TestInBrowser drives the UI in Debian's Chromium with playwright-core
// (browser/ui.test.mjs): the list loads, follows starts live and filters;
// an instance page shows its events and follows the run as a signal sent
// from the page completes it; an event expands to its payload; terminate,
// confirmed, shows in history; an API error is shown readably; the task
// queue and schedule pages list theirs; the keyboard reaches the
// navigation. Screenshots go to $CAIRN_UI_SHOTS (default: a temporary
// directory). .ci/run installs Chromium and playwright-core.
func TestInBrowser(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium): %v", chromium, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	if _, err := os.Stat(filepath.Join("browser", "node_modules", "playwright-core")); err != nil {
		t.Skipf("playwright-core is not installed (npm ci --prefix internal/webui/browser): %v", err)
	}
	shots := os.Getenv("CAIRN_UI_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := server(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "ui.test.mjs")
	cmd.Dir = "browser"
	cmd.Env = append(os.Environ(), "BASE_URL="+srv.URL, "SHOTS="+shots, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("the browser checks failed (screenshots in %s): %v", shots, err)
	}
}
