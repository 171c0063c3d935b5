package testenv

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

const (
	// DefaultNamespace is the namespace provisioned unless WithNamespace
	// says otherwise.
	DefaultNamespace = "default"

	// setupTimeout bounds server start, provisioning and reconnection, so a
	// broken environment fails the test instead of hanging it.
	setupTimeout = 30 * time.Second
)

// Option configures New.
type Option func(*config)

type config struct {
	namespace  string
	syncAlways bool
	nodes      int // 0: a single server
}

// WithNamespace provisions ns instead of DefaultNamespace.
func WithNamespace(ns string) Option {
	return func(c *config) { c.namespace = ns }
}

// WithSyncAlways makes the server fsync every write, for tests of
// durability and for realistic performance numbers.
func WithSyncAlways() Option {
	return func(c *config) { c.syncAlways = true }
}

// WithCluster runs the environment on a JetStream cluster of n embedded
// nodes (n ≥ 2; 3 is the usual) instead of a single server, and provisions
// the namespace with min(n, 3) replicas. URL is then the list of the
// nodes' URLs, Cluster stops and restarts nodes, and StopServer,
// StartServer and Restart are not available.
func WithCluster(n int) Option {
	return func(c *config) { c.nodes = n }
}

// Env is a running test environment. Its methods are safe for concurrent
// use, but stopping and starting the server is meant to be driven by the
// test goroutine.
type Env struct {
	cfg   config
	dir   string
	names streams.Names
	nc    *nats.Conn
	js    jetstream.JetStream

	mu      sync.Mutex
	srv     *embedded.Server // nil while stopped
	port    int              // chosen by the first start, reused by restarts
	url     string
	cluster *embedded.Cluster // with WithCluster only
}

// New starts a server, connects, and provisions the namespace. Everything is
// cleaned up when the test ends: connections first, then the server, then
// the temporary directory.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := config{namespace: DefaultNamespace}
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := streams.ValidateNamespace(cfg.namespace); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	e := &Env{
		cfg:   cfg,
		dir:   t.TempDir(),
		names: streams.NewNames(cfg.namespace),
		port:  -1,
	}
	if cfg.nodes != 0 {
		e.startCluster(t)
	} else {
		e.StartServer(t)
	}
	// Registered after TempDir and before any connection, so it runs after
	// every connection closed and before the directory is removed.
	t.Cleanup(e.stop)

	e.nc = e.NewConn(t)
	js, err := jetstream.New(e.nc)
	if err != nil {
		t.Fatalf("testenv: jetstream: %v", err)
	}
	e.js = js
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	var provision []streams.Option
	if cfg.nodes != 0 {
		provision = append(provision, streams.WithReplicas(min(cfg.nodes, 3)))
	}
	if err := streams.Ensure(ctx, js, cfg.namespace, provision...); err != nil {
		t.Fatalf("testenv: provision namespace %q: %v", cfg.namespace, err)
	}
	return e
}

// startCluster starts the WithCluster nodes.
func (e *Env) startCluster(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	c, err := embedded.StartCluster(ctx, e.cfg.nodes, embedded.WithDataDir(e.dir), embedded.WithSyncAlways(e.cfg.syncAlways))
	if err != nil {
		t.Fatalf("testenv: start cluster: %v", err)
	}
	e.cluster, e.url = c, c.ClientURLs()
}

// Cluster is the WithCluster cluster, to stop and restart its nodes; nil
// without WithCluster.
func (e *Env) Cluster() *embedded.Cluster { return e.cluster }

// URL is the client URL (with WithCluster, the comma-separated URLs of
// every node). It stays the same across restarts.
func (e *Env) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url
}

// Conn is the environment's own connection.
func (e *Env) Conn() *nats.Conn { return e.nc }

// JetStream is a JetStream context on Conn.
func (e *Env) JetStream() jetstream.JetStream { return e.js }

// Namespace is the provisioned namespace.
func (e *Env) Namespace() string { return e.cfg.namespace }

// Names are the JetStream names of the namespace.
func (e *Env) Names() streams.Names { return e.names }

// Dir is the server's data directory.
func (e *Env) Dir() string { return e.dir }

// Server is the running server, or nil while it is stopped or with
// WithCluster.
func (e *Env) Server() *embedded.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srv
}

// NewConn opens an additional connection, with the same reconnect behaviour
// as Conn, and closes it when the test ends.
func (e *Env) NewConn(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := streams.Connect(e.URL(), nats.Name("cairn-testenv"))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// StopServer shuts the server down gracefully. Connections stay open and
// keep trying to reconnect.
func (e *Env) StopServer(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cluster != nil {
		t.Fatalf("testenv: StopServer: the environment is a cluster; stop nodes with Cluster().StopNode")
	}
	if e.srv == nil {
		t.Fatalf("testenv: StopServer: server is not running")
	}
	e.srv.Shutdown()
	e.srv = nil
}

// StartServer starts the server again on the same data directory and port,
// so existing connections reconnect by themselves. It returns once the
// server is ready and Conn has reconnected (unless Conn was closed).
func (e *Env) StartServer(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cluster != nil {
		t.Fatalf("testenv: StartServer: the environment is a cluster; restart nodes with Cluster().RestartNode")
	}
	if e.srv != nil {
		t.Fatalf("testenv: StartServer: server is already running")
	}
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	opts := []embedded.ServerOption{
		embedded.WithDataDir(e.dir),
		embedded.WithPort(e.port),
		embedded.WithSyncAlways(e.cfg.syncAlways),
	}
	srv, err := embedded.StartServer(ctx, opts...)
	if err != nil {
		t.Fatalf("testenv: start server: %v", err)
	}
	e.srv = srv
	if e.port == -1 {
		// Pin the randomly chosen port: clients only know this address.
		e.port = srv.Port()
		e.url = srv.ClientURL()
	}
	if e.nc != nil {
		waitConnected(ctx, t, e.nc)
	}
}

// Restart stops and starts the server, as after a clean shutdown.
func (e *Env) Restart(t testing.TB) {
	t.Helper()
	e.StopServer(t)
	e.StartServer(t)
}

// stop shuts the server or the cluster down; for cleanup.
func (e *Env) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cluster != nil {
		e.cluster.Shutdown()
	}
	if e.srv != nil {
		e.srv.Shutdown()
		e.srv = nil
	}
}

// waitConnected waits until nc has reconnected. nats.go retries every
// ReconnectWait (100ms with streams.Connect), so this is short.
func waitConnected(ctx context.Context, t testing.TB, nc *nats.Conn) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !nc.IsConnected() {
		if nc.IsClosed() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testenv: connection did not reconnect: %v", ctx.Err())
		case <-tick.C:
		}
	}
}
