package embedded

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	"github.com/cairnhq/cairn/streams"
)

func TestStartServerDefaults(t *testing.T) {
	s := startTestServer(t, "", WithServerName("cairn-test"))
	if s.Port() <= 0 {
		t.Fatalf("Port = %d", s.Port())
	}
	if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") {
		t.Errorf("ClientURL = %q", s.ClientURL())
	}
	if s.Inner().Name() != "cairn-test" || !s.Inner().JetStreamEnabled() {
		t.Errorf("inner server: name %q, jetstream %v", s.Inner().Name(), s.Inner().JetStreamEnabled())
	}
	nc, _ := connect(t, s.ClientURL())
	if got := nc.MaxPayload(); got != int64(DefaultMaxPayload) {
		t.Errorf("MaxPayload = %d, want %d", got, DefaultMaxPayload)
	}
	s.Shutdown()
	s.Shutdown() // idempotent
}

func TestStartServerErrors(t *testing.T) {
	ctx := testCtx(t)
	if _, err := StartServer(ctx); !errors.Is(err, ErrServerStart) {
		t.Errorf("no data dir: %v", err)
	}

	// A taken port fails fast instead of waiting for the ready timeout.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	_, err = StartServer(ctx, WithDataDir(t.TempDir()), WithPort(l.Addr().(*net.TCPAddr).Port))
	if !errors.Is(err, ErrServerStart) {
		t.Fatalf("port in use: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("port in use took %v to fail", d)
	}
	t.Logf("port in use: %v", err)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := StartServer(canceled, WithDataDir(t.TempDir())); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: %v", err)
	}
}

func TestServerRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, dir, WithSyncAlways(true))
	port := s.Port()
	nc, js := connect(t, s.ClientURL())
	ctx := testCtx(t)
	if err := streams.Ensure(ctx, js, "keep"); err != nil {
		t.Fatal(err)
	}
	n := streams.NewNames("keep")
	ack, err := js.Publish(ctx, n.HistorySubject("wf"), []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, n.InstancesBucket())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, n.InstanceKey("wf"), []byte("running")); err != nil {
		t.Fatal(err)
	}

	s.Shutdown()
	s = startTestServer(t, dir, WithPort(port), WithSyncAlways(true))
	if s.Port() != port {
		t.Fatalf("restarted on port %d, want %d", s.Port(), port)
	}

	// The same connection reconnects by itself; wait for it, bounded.
	testutil.EventuallyTrue(t, 10*time.Second, nc.IsConnected, "the client reconnected")
	m, err := streams.LastMsg(ctx, nc, n.HistoryStream(), n.HistorySubject("wf"))
	if err != nil || m.Seq != ack.Sequence || string(m.Data) != "hello" {
		t.Fatalf("after restart: %+v, %v", m, err)
	}
	e, err := kv.Get(ctx, n.InstanceKey("wf"))
	if err != nil || string(e.Value()) != "running" {
		t.Fatalf("kv after restart: %v", err)
	}
	// Ensure on the recovered layout is still a no-op.
	if err := streams.Ensure(ctx, js, "keep"); err != nil {
		t.Fatal(err)
	}
}
