package httpedge_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/httpedge"
	"github.com/cairnhq/cairn/internal/testutil"
)

func serve(t *testing.T, h http.Handler, opts ...httpedge.Option) (*httpedge.Server, string) {
	t.Helper()
	s, err := httpedge.NewServer(h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		_ = s.HTTP().Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return s, l.Addr().String()
}

func TestNewServerSetsEveryTimeout(t *testing.T) {
	s, err := httpedge.NewServer(http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	h := s.HTTP()
	if h.ReadHeaderTimeout <= 0 || h.ReadTimeout <= 0 || h.WriteTimeout <= 0 || h.IdleTimeout <= 0 || h.MaxHeaderBytes <= 0 {
		t.Fatalf("unset limit: %+v", h)
	}
	if _, err := httpedge.NewServer(http.NotFoundHandler(), httpedge.WithTimeouts(time.Second, 0, time.Second, time.Second)); !errors.Is(err, httpedge.ErrInvalidOption) {
		t.Fatalf("zero timeout: err = %v", err)
	}
	if _, err := httpedge.NewServer(http.NotFoundHandler(), httpedge.WithTLSFiles("cert.pem", "")); !errors.Is(err, httpedge.ErrInvalidOption) {
		t.Fatalf("cert without key: err = %v", err)
	}
}

// A client that trickles a body, one byte every 20ms, is cut off once
// ReadTimeout has passed since the request started: it cannot hold the
// connection by staying barely active.
func TestSlowBodyIsCutOff(t *testing.T) {
	handlerErr := make(chan error, 1)
	_, addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		handlerErr <- err
		if err != nil {
			http.Error(w, "slow body", http.StatusRequestTimeout)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), httpedge.WithTimeouts(time.Second, 300*time.Millisecond, 5*time.Second, 5*time.Second))

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The body announces 1 MiB; the trickle would take about 6 hours.
	if _, err := io.WriteString(conn, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 1048576\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	trickled := make(chan int, 1)
	go func() {
		n := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		defer func() { trickled <- n }()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte{'x'}); err != nil {
					return
				}
				n++
			}
		}
	}()
	// The server must end the request; the deadline only keeps a broken
	// server from hanging the test.
	select {
	case err := <-handlerErr:
		if err == nil {
			t.Fatal("the handler read the whole trickled body")
		}
	case <-time.After(time.Minute):
		t.Fatal("the trickled body was not cut off")
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	_, err = io.ReadAll(bufio.NewReader(conn)) // the server closes the connection
	close(stop)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("connection not closed by the server: %v", err)
	}
	if n := <-trickled; n >= 1<<20 {
		t.Fatalf("the whole body was sent (%d bytes)", n)
	}
}

func TestTLSServing(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testutil.SelfSignedCert(t, dir)
	s, addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			t.Error("request not over TLS")
		}
		w.WriteHeader(http.StatusNoContent)
	}), httpedge.WithTLSFiles(certFile, keyFile))
	if s.Scheme() != "https" {
		t.Fatalf("scheme %q", s.Scheme())
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Plain HTTP on the TLS port is not served.
	resp, err = http.Get("http://" + addr + "/")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("plain HTTP answered %d", resp.StatusCode)
		}
	}
}
