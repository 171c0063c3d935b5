package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"

	"github.com/cairnhq/cairn/streams"
)

func TestNewProvisions(t *testing.T) {
	e := New(t, WithNamespace("envtest"))
	if e.Namespace() != "envtest" || e.Names().HistoryStream() != "cairn-envtest-history" {
		t.Fatalf("namespace %q", e.Namespace())
	}
	ctx := t.Context()
	for _, name := range []string{e.Names().HistoryStream(), e.Names().InboxStream(), e.Names().TasksStream()} {
		if _, err := e.JetStream().Stream(ctx, name); err != nil {
			t.Errorf("stream %q: %v", name, err)
		}
	}
	if e.Dir() == "" || e.Server() == nil || e.URL() != e.Server().ClientURL() {
		t.Errorf("dir %q url %q", e.Dir(), e.URL())
	}
}

func TestDefaultNamespace(t *testing.T) {
	e := New(t, WithSyncAlways())
	if e.Namespace() != DefaultNamespace {
		t.Fatalf("namespace %q", e.Namespace())
	}
}

// TestRestartKeepsConnectionsAndData proves the property recovery tests rely
// on: after Restart the same connections work again and nothing was lost.
func TestRestartKeepsConnectionsAndData(t *testing.T) {
	e := New(t)
	n := e.Names()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	other := e.NewConn(t)
	ack, err := e.JetStream().Publish(ctx, n.HistorySubject("wf-1"), []byte("event"))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := e.JetStream().KeyValue(ctx, n.InstancesBucket())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, n.InstanceKey("wf-1"), []byte("running")); err != nil {
		t.Fatal(err)
	}
	url, port := e.URL(), e.Server().Port()

	e.Restart(t)

	if e.URL() != url || e.Server().Port() != port {
		t.Fatalf("address changed: %s -> %s", url, e.URL())
	}
	if !e.Conn().IsConnected() {
		t.Fatal("Conn not reconnected after Restart")
	}
	m, err := streams.LastMsg(ctx, e.Conn(), n.HistoryStream(), n.HistorySubject("wf-1"))
	if err != nil || m.Seq != ack.Sequence || string(m.Data) != "event" {
		t.Fatalf("history after restart: %+v, %v", m, err)
	}
	if e, err := kv.Get(ctx, n.InstanceKey("wf-1")); err != nil || string(e.Value()) != "running" {
		t.Fatalf("kv after restart: %v", err)
	}
	// The extra connection reconnects too; it may lag Conn slightly.
	testutil.EventuallyTrue(t, 10*time.Second, other.IsConnected, "the extra connection reconnected")
	if _, err := streams.LastMsg(ctx, other, n.HistoryStream(), n.HistorySubject("wf-1")); err != nil {
		t.Fatalf("other connection after restart: %v", err)
	}
	if _, err := e.JetStream().Publish(ctx, n.HistorySubject("wf-1"), []byte("more")); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}
}

func TestStopAndStart(t *testing.T) {
	e := New(t)
	e.StopServer(t)
	if e.Server() != nil {
		t.Fatal("Server() not nil while stopped")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := e.JetStream().Publish(ctx, e.Names().HistorySubject("x"), nil); err == nil {
		t.Fatal("publish succeeded while the server is stopped")
	}
	e.StartServer(t)
	ctx2, cancel2 := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel2()
	if _, err := e.JetStream().Publish(ctx2, e.Names().HistorySubject("x"), nil); err != nil {
		t.Fatalf("publish after start: %v", err)
	}
}

func TestClusterEnv(t *testing.T) {
	e := New(t, WithCluster(3))
	if e.Cluster() == nil || e.Server() != nil || e.Cluster().ClientURLs() != e.URL() {
		t.Fatalf("cluster %v, server %v, url %q", e.Cluster(), e.Server(), e.URL())
	}
	s, err := e.JetStream().Stream(t.Context(), e.Names().HistoryStream())
	if err != nil {
		t.Fatal(err)
	}
	if r := s.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("history stream replicas = %d, want 3", r)
	}
	// A worker and a client work on the list of URLs.
	if !e.NewConn(t).IsConnected() {
		t.Fatal("new connection not connected")
	}
}
