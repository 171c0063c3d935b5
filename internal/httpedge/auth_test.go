package httpedge_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnhq/cairn/internal/httpedge"
)

func TestLoadTokensReadsFileAndEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("# rotated 2026-12\n\n  old-key  \nnew-key\n#commented-out\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := httpedge.LoadTokens(file, "env-a, env-b\nenv-c")
	if err != nil {
		t.Fatal(err)
	}
	if tokens.Len() != 5 {
		t.Fatalf("got %d tokens, want 5", tokens.Len())
	}
	for _, tok := range []string{"old-key", "new-key", "env-a", "env-b", "env-c"} {
		if !tokens.Valid(tok) {
			t.Errorf("%q not accepted", tok)
		}
	}
	for _, tok := range []string{"", "#commented-out", "commented-out", "# rotated 2026-12", "old-ke", "new-key2"} {
		if tokens.Valid(tok) {
			t.Errorf("%q accepted", tok)
		}
	}
}

func TestLoadTokensRefusesAFileWithoutTokens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("# nothing yet\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := httpedge.LoadTokens(file, ""); !errors.Is(err, httpedge.ErrNoTokens) {
		t.Fatalf("err = %v, want ErrNoTokens", err)
	}
	if _, err := httpedge.LoadTokens(filepath.Join(t.TempDir(), "missing"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestRequireBearer(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := httpedge.RequireBearer(httpedge.NewTokens("s3cret", "rotated"), next)
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"prefix of a token", "Bearer s3cre", http.StatusUnauthorized},
		{"basic scheme", "Basic czNjcmV0", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"first token", "Bearer s3cret", http.StatusTeapot},
		{"second token", "Bearer rotated", http.StatusTeapot},
		{"scheme case-insensitive", "bearer s3cret", http.StatusTeapot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/events", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if tc.want != http.StatusUnauthorized {
				return
			}
			if got := w.Header().Get("WWW-Authenticate"); len(got) < 6 || got[:6] != "Bearer" {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var p struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != 401 || p.Code != "unauthorized" {
				t.Errorf("body %s (%v)", w.Body, err)
			}
		})
	}
}

func TestRequireBearerWithoutTokensIsOpen(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	w := httptest.NewRecorder()
	httpedge.RequireBearer(httpedge.Tokens{}, next).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusTeapot {
		t.Fatalf("status %d", w.Code)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:4280": true, "localhost:4280": true, "[::1]:4280": true, "127.1.2.3:0": true,
		":4280": false, "0.0.0.0:4280": false, "10.0.0.5:4280": false, "[::]:4280": false, "example.org:80": false,
	} {
		if got := httpedge.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
