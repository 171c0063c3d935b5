package httpedge_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/internal/httpedge"
)

func TestRecoverAnswers500AndLogsOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := httpedge.Recover(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/x", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err) // a closed connection is what Recover must prevent
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var p struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || p.Code != "internal" {
		t.Fatalf("body code %q (%v)", p.Code, err)
	}
	if n := strings.Count(logs.String(), "HTTP handler panicked"); n != 1 {
		t.Fatalf("panic logged %d times:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic value not logged:\n%s", logs.String())
	}
}
