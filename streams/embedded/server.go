package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Embedded server defaults.
const (
	DefaultServerHost = "127.0.0.1"
	// DefaultMaxPayload leaves room for large workflow task batches; the
	// nats-server default of 1 MiB is tight for histories with big payloads.
	DefaultMaxPayload int32 = 8 << 20
	// serverReadyTimeout bounds how long StartServer waits for the server
	// to recover its streams and listen.
	serverReadyTimeout = 10 * time.Second
)

// ServerOption configures StartServer.
type ServerOption func(*serverConfig)

type serverConfig struct {
	dataDir    string
	host       string
	port       int
	syncAlways bool
	maxPayload int32
	name       string
	logging    bool
	users      []User

	// Set by StartCluster only: the cluster name, this node's route port
	// and the route URLs of every node (itself included, so that the
	// server expects as many JetStream peers as there are nodes).
	clusterName string
	routePort   int
	routes      []*url.URL
	// routeAdvertise is the route address this node gossips to the
	// others; see Cluster.configure for why nobody listens there.
	routeAdvertise string
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		host:       DefaultServerHost,
		port:       -1,
		maxPayload: DefaultMaxPayload,
	}
}

// WithDataDir sets the JetStream store directory. It is required: a server
// without one would silently keep its data in a shared temporary directory.
func WithDataDir(dir string) ServerOption {
	return func(c *serverConfig) { c.dataDir = dir }
}

// WithHost sets the listen address (default 127.0.0.1).
func WithHost(host string) ServerOption {
	return func(c *serverConfig) { c.host = host }
}

// WithPort sets the client port. The default, -1, picks a free port; read it
// back with Server.Port to restart on the same one.
func WithPort(port int) ServerOption {
	return func(c *serverConfig) { c.port = port }
}

// WithSyncAlways makes the store fsync every write. Without it the server
// syncs periodically, which survives a process crash but may lose the last
// writes on an operating system crash or power loss.
func WithSyncAlways(on bool) ServerOption {
	return func(c *serverConfig) { c.syncAlways = on }
}

// WithMaxPayload sets the largest message the server accepts (default
// 8 MiB).
func WithMaxPayload(bytes int32) ServerOption {
	return func(c *serverConfig) { c.maxPayload = bytes }
}

// WithServerName sets the server name (default: the generated server id).
// For StartCluster it is the prefix of the node names (default "node":
// node-1, node-2, ...).
func WithServerName(name string) ServerOption {
	return func(c *serverConfig) { c.name = name }
}

// WithLogger sends the server's notices, warnings and errors to stderr
// (default off).
func WithLogger(on bool) ServerOption {
	return func(c *serverConfig) { c.logging = on }
}

// User is an NKey user of the embedded server and its permissions: the
// subjects it may publish and subscribe to (allow lists; everything else
// is denied) and whether it may reply to requests it receives.
type User struct {
	// NKey is the user's public key ("U...").
	NKey           string
	Publish        []string
	Subscribe      []string
	AllowResponses bool
}

// WithUsers makes the server require authentication: only these NKey
// users may connect, each with its permissions. Without it the server
// accepts every connection with full permissions.
func WithUsers(users ...User) ServerOption {
	return func(c *serverConfig) { c.users = append(c.users, users...) }
}

// Server is an embedded nats-server with JetStream enabled.
type Server struct {
	inner *server.Server
}

// StartServer starts an embedded server and waits until it accepts clients
// with JetStream enabled (at most 10s, or until ctx ends). On any failure the
// server is shut down and the error wraps ErrServerStart.
func StartServer(ctx context.Context, opts ...ServerOption) (*Server, error) {
	cfg := defaultServerConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	return startServer(ctx, cfg)
}

// startServer starts one server, standalone or a node of a cluster.
func startServer(ctx context.Context, cfg serverConfig) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServerStart, err)
	}
	if cfg.dataDir == "" {
		return nil, fmt.Errorf("%w: a data directory is required (WithDataDir)", ErrServerStart)
	}
	if cfg.maxPayload <= 0 {
		return nil, fmt.Errorf("%w: max payload %d must be positive", ErrServerStart, cfg.maxPayload)
	}
	sopts := &server.Options{
		ServerName: cfg.name,
		Host:       cfg.host,
		Port:       cfg.port,
		MaxPayload: cfg.maxPayload,
		JetStream:  true,
		StoreDir:   cfg.dataDir,
		SyncAlways: cfg.syncAlways,
		// The embedding process owns signals and logging.
		NoSigs: true,
		NoLog:  !cfg.logging,
	}
	for _, u := range cfg.users {
		if !nkeys.IsValidPublicUserKey(u.NKey) {
			return nil, fmt.Errorf("%w: %q is not an NKey user public key", ErrServerStart, u.NKey)
		}
		p := &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: u.Publish},
			Subscribe: &server.SubjectPermission{Allow: u.Subscribe},
		}
		if u.AllowResponses {
			p.Response = &server.ResponsePermission{MaxMsgs: server.DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
				Expires: server.DEFAULT_ALLOW_RESPONSE_EXPIRATION}
		}
		sopts.Nkeys = append(sopts.Nkeys, &server.NkeyUser{Nkey: u.NKey, Permissions: p})
	}
	if cfg.clusterName != "" {
		sopts.Cluster = server.ClusterOpts{Name: cfg.clusterName, Host: cfg.host, Port: cfg.routePort, Advertise: cfg.routeAdvertise}
		sopts.Routes = cfg.routes
	}
	inner, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServerStart, err)
	}
	// Always install our logger, even when silent: the server reports fatal
	// start errors (port in use, unusable store) only through Fatalf, and the
	// stock logger's Fatalf would exit the whole process.
	logger := newServerLogger(cfg.logging, cfg.name)
	inner.SetLogger(logger, false, false)

	started := make(chan struct{})
	go func() {
		defer close(started)
		inner.Start()
	}()
	if err := waitReady(ctx, inner, logger); err != nil {
		<-started // never shut down concurrently with Start
		inner.Shutdown()
		inner.WaitForShutdown()
		return nil, fmt.Errorf("%w: %w", ErrServerStart, err)
	}
	return &Server{inner: inner}, nil
}

// waitReady polls readiness in short slices so that a fatal start error or
// a cancelled ctx ends the wait early.
func waitReady(ctx context.Context, s *server.Server, logger *serverLogger) error {
	deadline := time.Now().Add(serverReadyTimeout)
	for !s.ReadyForConnections(50 * time.Millisecond) {
		select {
		case msg := <-logger.fatal:
			return errors.New(msg)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready for connections after %v", serverReadyTimeout)
		}
	}
	// Start enables JetStream before it listens, so a listening server
	// without JetStream failed to enable it.
	select {
	case msg := <-logger.fatal:
		return errors.New(msg)
	default:
	}
	if !s.JetStreamEnabled() {
		return errors.New("JetStream is not enabled")
	}
	return nil
}

// ClientURL returns the URL clients connect to, e.g. nats://127.0.0.1:4222.
func (s *Server) ClientURL() string { return s.inner.ClientURL() }

// Port returns the client port actually listened on.
func (s *Server) Port() int {
	if addr, ok := s.inner.Addr().(*net.TCPAddr); ok {
		return addr.Port
	}
	return 0
}

// Shutdown stops the server gracefully (streams are flushed to disk) and
// waits until it has stopped. Calling it again is a no-op.
func (s *Server) Shutdown() {
	s.inner.Shutdown()
	s.inner.WaitForShutdown()
}

// Inner returns the wrapped nats-server, for monitoring and tests.
func (s *Server) Inner() *server.Server { return s.inner }

// ErrServerStart reports that the embedded server failed to start.
var ErrServerStart = errors.New("embedded: server failed to start")
