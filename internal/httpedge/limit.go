package httpedge

import (
	"fmt"
	"net/http"
)

// DefaultMaxInFlight bounds the requests a cairn HTTP server handles at
// once. Each may hold its body (up to the 1 MiB event limit) and the
// decoded event, so this bounds the memory requests use: about 64 MiB of
// bodies.
const DefaultMaxInFlight = 64

// LimitInFlight wraps next so that at most n requests run in it at once;
// one more is answered 503 with Retry-After at once, instead of queueing
// (its body would be held while it waits). n must be at least 1.
func LimitInFlight(n int, next http.Handler) (http.Handler, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: in-flight limit %d, want at least 1", ErrInvalidOption, n)
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			writeProblem(w, problem{Type: "about:blank", Title: "busy", Status: http.StatusServiceUnavailable,
				Detail: fmt.Sprintf("%d requests are in progress, the limit; retry", n), Code: "busy"})
		}
	}), nil
}
