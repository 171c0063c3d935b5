package streams

import (
	"context"
	"testing"
	"time"

	"github.com/cairnhq/cairn/streams/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testCtx returns a context bounded well below the go test timeout, so a
// hang fails one test with a useful message instead of killing the binary.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startTestServer starts an embedded server on a random loopback port in
// dir (a fresh temp dir when empty) and shuts it down on cleanup.
func startTestServer(t testing.TB, dir string, opts ...embedded.ServerOption) *embedded.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := embedded.StartServer(testCtx(t), append([]embedded.ServerOption{embedded.WithDataDir(dir)}, opts...)...)
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// connect opens a client connection closed on cleanup.
func connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := Connect(url)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New: %v", err)
	}
	return nc, js
}

// ensured starts a server, connects, and provisions namespace ns.
func ensured(t testing.TB, ns string, opts ...Option) (*embedded.Server, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	s := startTestServer(t, "")
	nc, js := connect(t, s.ClientURL())
	if err := Ensure(testCtx(t), js, ns, opts...); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return s, nc, js
}
