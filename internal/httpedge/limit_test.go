package httpedge_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cairnhq/cairn/internal/httpedge"
)

func TestLimitInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h, err := httpedge.LimitInFlight(2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _ := get("/block"); code != http.StatusNoContent {
				t.Errorf("blocked request: %d", code)
			}
		}()
	}
	<-entered
	<-entered // both slots taken
	if code, retry := get("/"); code != http.StatusServiceUnavailable || retry == "" {
		t.Fatalf("third request: %d, Retry-After %q", code, retry)
	}
	close(release)
	wg.Wait()
	if code, _ := get("/"); code != http.StatusNoContent {
		t.Fatalf("after the slots freed: %d", code)
	}
	if _, err := httpedge.LimitInFlight(0, h); !errors.Is(err, httpedge.ErrInvalidOption) {
		t.Fatalf("limit 0: err = %v", err)
	}
}
