package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/examples/order"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

const (
	defaultDataDir = ".cairn/data"
	// devLockFile, in the data directory, is locked while dev runs.
	devLockFile = "cairn-dev.lock"
	defaultPort = 4222
	// clusterReplicas is the replica count of a clustered cairn dev
	// namespace unless --replicas says otherwise.
	clusterReplicas = 3
	// demoQueue is the task queue of the demo worker.
	demoQueue = "default"
	// demoOrderID is the id of the order --demo-start starts.
	demoOrderID = "demo-order"
	// demoInput is the order the banner suggests: shipped after 5 s.
	demoInput = `{"id":"1","customer":"ada","item":"book","quantity":1,"amountCents":1299,"shipAfter":5000000000}`
	// workerReadyTimeout bounds how long dev waits for the demo worker to
	// register its types and start serving.
	workerReadyTimeout = 30 * time.Second
	// workerStopTimeout bounds a graceful worker stop before the server is
	// shut down anyway.
	workerStopTimeout = 15 * time.Second
)

const devUsage = `Usage:
  cairn dev [--data DIR] [--host HOST] [--port PORT] [--namespace NS] [--sync-always] [--auth]
            [--cluster 1|3|5] [--replicas N]
            [--no-demo | --demo-start] [--log-level LEVEL] [--http ADDR|auto|off] [--triggers FILE]
            [--metrics ADDR|auto|off] [--key-file FILE]
            [--http-token-file FILE] [--http-tls-cert FILE --http-tls-key FILE]

Runs a development engine in one process: an embedded nats-server with
JetStream file storage under DIR, the namespace's streams and buckets, and a
demo worker on task queue "default" serving the order workflow of
examples/order (workflow Workflow; activities Charge, Refund, Reserve,
Release, Ship). With --auth the server admits only the NKey users of
cairn's roles, whose seeds it keeps in DIR/auth (cairn auth -h). It runs
until interrupted (SIGINT or SIGTERM), then stops the worker and then the
server. Data survives restarts: start it again on the
same DIR and running workflows resume, timers included.

With --cluster 3 (or 5) the embedded NATS is a JetStream cluster of that
many nodes on HOST, each with its own store under DIR/node-1, DIR/node-2,
...: node 1 listens on PORT (a free port if the default is taken), the
others and the cluster routes on free ports, and the namespace is
provisioned with 3 replicas unless --replicas says otherwise.
`

// devConfig is the parsed command line of cairn dev.
type devConfig struct {
	dataDir    string
	host       string
	port       int // -1: any free port
	namespace  string
	syncAlways bool
	// cluster is the number of embedded NATS nodes (1: a single server);
	// replicas the namespace's replica count.
	cluster  int
	replicas int
	// portGiven is false when port is the default, which a clustered
	// dev replaces with a free port if it is taken.
	portGiven bool
	demo      bool
	demoStart bool
	logLevel  slog.Level

	// httpAddr is the CloudEvents HTTP endpoint's --http value; triggers
	// the --triggers file (see events.go).
	httpAddr string
	triggers string
	// metricsAddr is --metrics: where /metrics is served (see telemetry.go).
	metricsAddr string
	// keyFile is --key-file: the payload encryption keys (see codec.go).
	keyFile string
	// edgeFlags protect both HTTP endpoints (see http_edge.go).
	edgeFlags httpEdgeFlags
	// auth is --auth: the embedded server admits only the role users
	// whose keys are in DIR/auth.
	auth bool
}

func cmdDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("cairn dev", devUsage, stdout)
	cfg := devConfig{}
	var noDemo bool
	var level string
	c.fs.StringVar(&cfg.dataDir, "data", defaultDataDir, "JetStream storage `directory` (created if missing)")
	c.fs.StringVar(&cfg.host, "host", embedded.DefaultServerHost, "`address` the NATS server listens on")
	c.fs.IntVar(&cfg.port, "port", defaultPort, "NATS client `port` (-1 or 0 picks a free port)")
	c.fs.StringVar(&cfg.namespace, "namespace", defaultNamespace, "cairn `namespace` to provision and serve")
	c.fs.BoolVar(&cfg.auth, "auth", false, "require authentication: one NKey user per cairn role, keys in DIR/"+devAuthDir+" (cairn auth -h)")
	c.fs.BoolVar(&cfg.syncAlways, "sync-always", false, "fsync every write (survives OS crashes and power loss; slower)")
	c.fs.IntVar(&cfg.cluster, "cluster", 1, "number of embedded NATS `nodes`: 1, or a cluster of 3 or 5 on free ports")
	c.fs.IntVar(&cfg.replicas, "replicas", 0, "replica `count` of the namespace's streams and buckets, 1-5 (default 1, or 3 with --cluster)")
	c.fs.BoolVar(&noDemo, "no-demo", false, "do not run the demo worker")
	c.fs.BoolVar(&cfg.demoStart, "demo-start", false, "start one demo order (id "+demoOrderID+") at startup")
	c.fs.StringVar(&cfg.httpAddr, "http", "auto", "CloudEvents HTTP endpoint `address`; auto: HOST:4280 (a free port with --port -1); off: none")
	cfg.edgeFlags.register(c.fs)
	c.fs.StringVar(&cfg.triggers, "triggers", "", "JSON `file` of CloudEvents triggers and service bindings to load (docs/cloudevents.md)")
	c.fs.StringVar(&cfg.metricsAddr, "metrics", "auto", "Prometheus /metrics `address`; auto: HOST:9464 (a free port with --port -1); off: none")
	registerProcessKeyFile(c.fs, &cfg.keyFile)
	c.fs.StringVar(&level, "log-level", "info", "log `level`: debug, info, warn or error (debug includes nats-server logs)")
	if err := c.parse(args); err != nil {
		return err
	}
	cfg.demo = !noDemo
	cfg.portGiven = given(c.fs, "port")
	switch cfg.cluster {
	case 1, 3, 5:
	default:
		return usageErrorf(c.name, "--cluster %d: want 1 (a single server), 3 or 5", cfg.cluster)
	}
	if !given(c.fs, "replicas") {
		cfg.replicas = min(cfg.cluster, clusterReplicas)
	}
	if cfg.replicas < 1 || cfg.replicas > 5 {
		return usageErrorf(c.name, "--replicas %d: want 1-5", cfg.replicas)
	}
	if cfg.replicas > cfg.cluster {
		size := 3
		if cfg.replicas > 3 {
			size = 5
		}
		return usageErrorf(c.name, "--replicas %d needs at least as many NATS nodes: add --cluster %d", cfg.replicas, size)
	}
	if err := cfg.logLevel.UnmarshalText([]byte(level)); err != nil {
		return usageErrorf(c.name, "--log-level %q: want debug, info, warn or error", level)
	}
	if cfg.port < -1 || cfg.port > 65535 {
		return usageErrorf(c.name, "--port %d: want 1-65535, or -1 for any free port", cfg.port)
	}
	if cfg.port == 0 {
		cfg.port = -1
	}
	if !cfg.auth && !loopbackHost(cfg.host) {
		// The embedded server has no users: anyone who reaches it may
		// forge timer fires, results and history. It stays on this machine.
		return usageErrorf(c.name, "--host %q: without --auth, cairn dev's NATS server has no authentication and listens on loopback only "+
			"(127.0.0.1, ::1 or localhost); add --auth, or run nats-server with authentication and 'cairn server', to serve other machines", cfg.host)
	}
	if cfg.dataDir == "" {
		return usageErrorf(c.name, "--data must not be empty")
	}
	if err := streams.ValidateNamespace(cfg.namespace); err != nil {
		return usageErrorf(c.name, "--namespace %q: must match [A-Za-z0-9_-]{1,64}", cfg.namespace)
	}
	if noDemo && cfg.demoStart {
		return usageErrorf(c.name, "--demo-start needs the demo worker; drop --no-demo")
	}
	return runDev(ctx, cfg, stdout, stderr)
}

// runDev runs the development engine until ctx ends. A ctx canceled during
// startup is a clean exit.
func runDev(ctx context.Context, cfg devConfig, stdout, stderr io.Writer) (err error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = nil // interrupted while starting
		}
	}()
	if cfg.cluster > 1 && !cfg.portGiven && cfg.port > 0 && portInUse(cfg.host, cfg.port) {
		// A demo cluster next to a running 'cairn dev': every port free,
		// HTTP and metrics included (they follow --port -1).
		log.Info("the default NATS port is taken; node 1 listens on a free port", "port", cfg.port)
		cfg.port = -1
	}
	dc, err := processConverter(cfg.keyFile)
	if err != nil {
		return err
	}
	// OpenTelemetry from the OTEL_* environment; flushed after everything
	// else has stopped.
	metricsAddr, explicitMetrics := resolveMetrics(cfg.metricsAddr, cfg.host, cfg.port < 0)
	edge, err := cfg.edgeFlags.load("cairn dev")
	if err != nil {
		return err
	}
	tel, err := startTelemetry(ctx, metricsAddr, explicitMetrics, edge, log)
	if err != nil {
		return err
	}
	defer tel.stop()
	log = tel.log

	dir, err := filepath.Abs(cfg.dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	unlock, err := lockDataDir(dir)
	if err != nil {
		return err
	}
	defer unlock() // after the server has shut down
	if cfg.port > 0 && portInUse(cfg.host, cfg.port) {
		return portBusyError(cfg)
	}
	var keys *devKeys
	if cfg.auth {
		if keys, err = loadDevKeys(dir, cfg.namespace); err != nil {
			return err
		}
	}
	srv, err := startDevNATS(ctx, cfg, dir, keys, log)
	if err != nil {
		return err
	}
	defer func() {
		srv.shutdown()
		log.Info("nats-server stopped")
	}()
	url := srv.url
	log.Info("nats-server ready", "url", url, "data", dir, "nodes", cfg.cluster)

	if err := provisionDev(ctx, url, cfg, keys); err != nil {
		return err
	}
	log.Debug("namespace provisioned", "namespace", cfg.namespace, "replicas", cfg.replicas)
	// Everything else runs as the engine role with --auth.
	nc, err := streams.Connect(url, append(keys.options(streams.RoleEngine), nats.Name("cairn-dev"))...)
	if err != nil {
		return err
	}
	defer nc.Close()

	// The demo worker runs in the background; done closes when Run
	// returns, with its error in workerErr.
	done := make(chan struct{})
	var workerErr error
	stopWorker := func() {}
	if cfg.demo {
		w, err := worker.New(nc, demoQueue, withConverter([]worker.Option{worker.WithNamespace(cfg.namespace), worker.WithLogger(log),
			cloudevents.NewLifecyclePublisher(nc, cfg.namespace, log).WorkerOption()}, dc, worker.WithDataConverter)...)
		if err != nil {
			return fmt.Errorf("demo worker: %w", err)
		}
		w.RegisterWorkflow(order.Workflow)
		for _, a := range []any{order.Charge, order.Refund, order.Reserve, order.Release, order.Ship} {
			w.RegisterActivity(a)
		}
		wctx, cancel := context.WithCancel(ctx)
		go func() {
			defer close(done)
			workerErr = w.Run(wctx)
		}()
		stopWorker = func() {
			cancel()
			select {
			case <-done:
				if workerErr != nil {
					log.Warn("demo worker stopped with an error", "error", workerErr)
				}
				log.Info("demo worker stopped")
			case <-time.After(workerStopTimeout):
				log.Warn("demo worker did not stop in time; stopping the server anyway", "timeout", workerStopTimeout)
			}
		}
		if err := waitWorkerReady(ctx, w, done); err != nil {
			stopWorker()
			select {
			case <-done:
				if workerErr != nil {
					return fmt.Errorf("demo worker: %w", workerErr)
				}
			default:
			}
			return err
		}
		log.Info("demo worker ready", "task_queue", demoQueue, "worker_id", w.ID())
	}
	// Runs before the deferred connection close and server shutdown.
	defer func() { stopWorker() }()

	// CloudEvents in (NATS and HTTP) and the triggers file's service
	// bindings; stopped before the worker.
	evs, err := startEvents(ctx, nc, cfg.namespace, resolveHTTP(cfg.httpAddr, cfg.host, cfg.port < 0), cfg.triggers, edge,
		tel.providers.MeterProvider, log, dc)
	if err != nil {
		return err
	}
	defer evs.stop()
	// Schedules fire from here too, so they run with --no-demo.
	stopScheduler, err := startScheduler(ctx, nc, cfg.namespace, log)
	if err != nil {
		return err
	}
	defer stopScheduler()

	printBanner(stdout, cfg, srv, dir)
	keys.printBanner(stdout, srv.url)
	printTelemetryBanner(stdout, tel)
	printEventsBanner(stdout, cfg.namespace, evs)

	if cfg.demoStart {
		if err := startDemoOrder(ctx, nc, cfg.namespace, dc, stdout); err != nil {
			return err
		}
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return nil
	case <-done:
		stopWorker = func() {}
		err := workerErr
		if err == nil {
			err = errors.New("stopped unexpectedly")
		}
		return fmt.Errorf("demo worker: %w", err)
	}
}

// devNATS is the embedded NATS of cairn dev: one server, or a cluster.
type devNATS struct {
	url      string // client URLs, comma-separated for a cluster
	nodes    []string
	shutdown func()
}

// startDevNATS starts the embedded server, or the --cluster nodes in
// DIR/node-1, DIR/node-2, ...
func startDevNATS(ctx context.Context, cfg devConfig, dir string, keys *devKeys, log *slog.Logger) (*devNATS, error) {
	opts := []embedded.ServerOption{
		embedded.WithDataDir(dir),
		embedded.WithHost(cfg.host),
		embedded.WithPort(cfg.port),
		embedded.WithSyncAlways(cfg.syncAlways),
		embedded.WithLogger(cfg.logLevel <= slog.LevelDebug),
	}
	if keys != nil {
		opts = append(opts, embedded.WithUsers(embeddedUsers(keys.keys)...))
	}
	log.Debug("starting nats-server", "data", dir, "host", cfg.host, "port", cfg.port, "sync_always", cfg.syncAlways, "nodes", cfg.cluster)
	var (
		n   *devNATS
		err error
	)
	if cfg.cluster > 1 {
		var c *embedded.Cluster
		if c, err = embedded.StartCluster(ctx, cfg.cluster, opts...); err == nil {
			n = &devNATS{url: c.ClientURLs(), shutdown: c.Shutdown}
			for i := range c.Size() {
				n.nodes = append(n.nodes, c.NodeName(i))
			}
		}
	} else {
		var srv *embedded.Server
		if srv, err = embedded.StartServer(ctx, opts...); err == nil {
			n = &devNATS{url: srv.ClientURL(), shutdown: srv.Shutdown}
		}
	}
	if err != nil {
		if cfg.port > 0 && (strings.Contains(err.Error(), "address already in use") || portInUse(cfg.host, cfg.port)) {
			return nil, portBusyError(cfg)
		}
		return nil, fmt.Errorf("start embedded NATS server: %w", err)
	}
	return n, nil
}

// portInUse reports whether host:port cannot be listened on because it is
// taken.
func portInUse(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return errors.Is(err, syscall.EADDRINUSE)
	}
	l.Close()
	return false
}

func portBusyError(cfg devConfig) error {
	return &cliError{msg: fmt.Sprintf(
		"port %d on %s is already in use (another 'cairn dev' or nats-server?); choose another with --port, e.g. --port %d",
		cfg.port, cfg.host, cfg.port+1)}
}

// waitWorkerReady waits until the worker has registered its types and
// serves its queue, so that starts of its workflow types are accepted.
func waitWorkerReady(ctx context.Context, w *worker.Worker, done <-chan struct{}) error {
	t := time.NewTimer(workerReadyTimeout)
	defer t.Stop()
	select {
	case <-w.Ready():
		return nil
	case <-done:
		return errors.New("worker stopped before it was ready")
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("worker not ready after %v", workerReadyTimeout)
	}
}

// cliHint is the CLI invocation the banner suggests, with the global flags
// a non-default server or namespace needs.
func cliHint(cfg devConfig, url, cmd string) string {
	s := "go run ./cmd/cairn workflow " + cmd
	if url != defaultServer {
		s += " --server " + url
	}
	if cfg.namespace != defaultNamespace {
		s += " --namespace " + cfg.namespace
	}
	return s
}

func printBanner(w io.Writer, cfg devConfig, srv *devNATS, dir string) {
	url := srv.url
	tw := newTable(w)
	fmt.Fprintln(w, "cairn dev is running")
	fmt.Fprintln(w)
	fmt.Fprintf(tw, "  NATS URL:\t%s\n", url)
	if len(srv.nodes) > 0 {
		fmt.Fprintf(tw, "  cluster:\t%d nodes (%s), a store each under the data directory\n", len(srv.nodes), strings.Join(srv.nodes, ", "))
	}
	fmt.Fprintf(tw, "  namespace:\t%s (%s)\n", cfg.namespace, replicasText(cfg.replicas))
	fmt.Fprintf(tw, "  data:\t%s\n", dir)
	if cfg.demo {
		fmt.Fprintf(tw, "  worker:\ttask queue %q, examples/order: workflow Workflow; activities Charge, Refund, Reserve, Release, Ship\n", demoQueue)
	} else {
		fmt.Fprintf(tw, "  worker:\tnone (--no-demo); connect your own worker to %s\n", url)
	}
	tw.Flush()
	if cfg.demo {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Start a demo order (it ships after a 5 s durable sleep):")
		fmt.Fprintf(w, "  %s\n", cliHint(cfg, url, "start --type Workflow --id order-1 --input '"+demoInput+"'"))
		fmt.Fprintln(w, "Wait for its result:")
		fmt.Fprintf(w, "  %s\n", cliHint(cfg, url, "result --id order-1"))
		fmt.Fprintln(w, "Inspect it:")
		fmt.Fprintf(w, "  %s\n", cliHint(cfg, url, "describe --id order-1"))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Stop with Ctrl-C. Running workflows resume when 'cairn dev' starts again on the same data directory.")
}

func replicasText(n int) string {
	if n == 1 {
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", n)
}

// startDemoOrder starts the demo order of --demo-start.
func startDemoOrder(ctx context.Context, nc *nats.Conn, ns string, dc converter.DataConverter, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, err := client.New(ctx, nc, withConverter([]client.Option{client.WithNamespace(ns), client.WithoutProvisioning()},
		dc, client.WithDataConverter)...)
	if err != nil {
		return err
	}
	run, err := cl.Start(ctx, client.StartOptions{ID: demoOrderID, TaskQueue: demoQueue}, "Workflow", json.RawMessage(demoInput))
	if err != nil {
		return fmt.Errorf("start demo order: %w", err)
	}
	if run.Created {
		fmt.Fprintf(stdout, "\nStarted demo order %q (run %s).\n", run.ID, run.Run)
	} else {
		fmt.Fprintf(stdout, "\nDemo order %q is already running (run %s).\n", run.ID, run.Run)
	}
	return nil
}

// loopbackHost reports whether host is a loopback address or localhost.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// devAuthDir, in the data directory, holds the role keys of cairn dev
// --auth.
const devAuthDir = "auth"

// devKeys are the role keys of cairn dev --auth; nil without --auth.
type devKeys struct {
	dir  string
	keys []roleKey
}

func loadDevKeys(dataDir, ns string) (*devKeys, error) {
	dir := filepath.Join(dataDir, devAuthDir)
	keys, err := roleKeys(dir, ns)
	if err != nil {
		return nil, err
	}
	return &devKeys{dir: dir, keys: keys}, nil
}

// options are the connect options of a role: its key and inbox prefix.
// Without --auth there are none.
func (k *devKeys) options(role streams.Role) []nats.Option {
	if k == nil {
		return nil
	}
	for _, rk := range k.keys {
		if rk.perms.Role == role {
			// The seed was just read from this file; it cannot fail now
			// but by a race with someone deleting it, which Connect reports.
			opts, _ := streams.Auth{NKey: rk.seedFile, InboxPrefix: rk.perms.InboxPrefix}.Options()
			return opts
		}
	}
	return nil
}

func (k *devKeys) printBanner(w io.Writer, url string) {
	if k == nil {
		return
	}
	fmt.Fprintf(w, "\nNATS requires authentication (--auth): one NKey user per cairn role, seeds in %s\n", k.dir)
	for _, rk := range k.keys {
		fmt.Fprintf(w, "  %-8s cairn --server %s --nkey %s --role %s ...\n", rk.perms.Role, url, rk.seedFile, rk.perms.Role)
	}
}

// provisionDev provisions the namespace and its triggers bucket, as the
// admin role with --auth.
func provisionDev(ctx context.Context, url string, cfg devConfig, keys *devKeys) error {
	nc, err := streams.Connect(url, append(keys.options(streams.RoleAdmin), nats.Name("cairn-dev-provision"))...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// cairn dev owns its server, so it sets the replica count outright.
	if err := streams.Ensure(ctx, js, cfg.namespace, streams.WithReplicas(cfg.replicas)); err != nil {
		return fmt.Errorf("provision namespace %q: %w", cfg.namespace, err)
	}
	if _, err := cloudevents.OpenStore(ctx, js, cfg.namespace); err != nil {
		return fmt.Errorf("provision namespace %q: %w", cfg.namespace, err)
	}
	return nil
}
