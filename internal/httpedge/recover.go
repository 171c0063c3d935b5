package httpedge

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover wraps next so that a panic in it is answered 500 with a
// problem+json body and logged once, with its stack, to log, instead of
// net/http's default: a closed connection, no status, and a stack trace on
// the server's error log. http.ErrAbortHandler is passed on: it is how a
// handler asks for the connection to be dropped.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &trackingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			log.Error("HTTP handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if rw.wrote {
				// The status is sent already; the client sees a cut
				// response, the best that can be done.
				return
			}
			writeProblem(rw, problem{Type: "about:blank", Title: "internal error", Status: http.StatusInternalServerError,
				Detail: "the request could not be processed", Code: "internal"})
		}()
		next.ServeHTTP(rw, r)
	})
}

// trackingWriter remembers whether the header was sent.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
