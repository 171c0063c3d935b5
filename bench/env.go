package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

// shards overrides the worker's orchestrator shards when > 0 (-shards).
var shards int

// blockProfileRate is the block profile rate of -blockprofile (0: off).
var blockProfileRate int

// benchQueue is the task queue every benchmark uses.
const benchQueue = "bench"

// env is one benchmark's world: a fresh embedded nats-server with file
// storage in its own temporary directory on 127.0.0.1 (random port), or in a
// cluster mode a fresh embedded cluster of m.nodes such servers, the
// provisioned default namespace (at m.replicas replicas), a worker running in
// this process on its own connection (or worker processes, newProcEnv), and
// a client on another connection.
//
// Everything but startServer and restartServer reaches the server through
// url (on a cluster, every node's client URL, comma-separated), so the
// benchmarks do not know whether they run on a cluster.
type env struct {
	dir     string
	mode    mode
	srv     *embedded.Server  // the single server
	cluster *embedded.Cluster // or the cluster
	port    int
	url     string

	nc     *nats.Conn // the client's connection
	js     jetstream.JetStream
	client *client.Client

	wnc        *nats.Conn // the worker's connection
	w          *worker.Worker
	stopWorker context.CancelFunc
	workerDone chan error

	// procs are the worker processes of newProcEnv, oldest first; the
	// killed ones are removed.
	procs    []*workerProc
	nextProc int
	members  *members

	// notFound counts WorkflowRun.Get answering ErrNotFound for a run
	// just started, on a cluster (getResult).
	notFound atomic.Int64
}

// newEnv starts the server, provisions the namespace, connects a client and
// (unless register is nil) starts a worker with what register registers.
func newEnv(ctx context.Context, m mode, register func(*worker.Worker), wopts ...worker.Option) (*env, error) {
	dir, err := os.MkdirTemp("", "cairn-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, mode: m, port: -1}
	if err := e.startServer(ctx); err != nil {
		e.close()
		return nil, err
	}
	if e.nc, err = streams.Connect(e.url, nats.Name("cairn-bench-client")); err != nil {
		e.close()
		return nil, err
	}
	if e.js, err = jetstream.New(e.nc); err != nil {
		e.close()
		return nil, err
	}
	if err := streams.Ensure(ctx, e.js, "default", e.provisionOptions()...); err != nil {
		e.close()
		return nil, fmt.Errorf("provision: %w", err)
	}
	if register != nil {
		if m.replicas > 0 {
			wopts = append(wopts, worker.WithReplicas(m.replicas))
		}
		if err := e.startWorker(ctx, register, wopts...); err != nil {
			e.close()
			return nil, err
		}
		// The client checks at start time that a worker registered the
		// type, so it is made after the worker is ready.
		if e.client, err = e.newClient(ctx); err != nil {
			e.close()
			return nil, err
		}
	}
	if m.clustered() {
		e.logPlacement(ctx)
	}
	return e, nil
}

// provisionOptions are the streams options of the mode: its replica count.
func (e *env) provisionOptions() []streams.Option {
	if e.mode.replicas > 0 {
		return []streams.Option{streams.WithReplicas(e.mode.replicas)}
	}
	return nil
}

// newClient connects the benchmark's client (on nc), with the mode's
// replica count.
func (e *env) newClient(ctx context.Context) (*client.Client, error) {
	var opts []client.Option
	if e.mode.replicas > 0 {
		opts = append(opts, client.WithReplicas(e.mode.replicas))
	}
	return client.New(ctx, e.nc, opts...)
}

func (e *env) startServer(ctx context.Context) error {
	defer func() {
		if blockProfileRate > 0 {
			// nats-server's Start resets the rate to its own option (0).
			runtime.SetBlockProfileRate(blockProfileRate)
		}
	}()
	if e.mode.clustered() {
		c, err := embedded.StartCluster(ctx, e.mode.nodes, embedded.WithDataDir(e.dir),
			embedded.WithSyncAlways(e.mode.syncAlways))
		if err != nil {
			return err
		}
		e.cluster = c
		e.url = c.ClientURLs()
		return nil
	}
	srv, err := embedded.StartServer(ctx, embedded.WithDataDir(e.dir), embedded.WithPort(e.port),
		embedded.WithSyncAlways(e.mode.syncAlways))
	if err != nil {
		return err
	}
	e.srv = srv
	if e.port == -1 {
		e.port = srv.Port()
		e.url = srv.ClientURL()
	}
	return nil
}

// restartServer stops and starts the server on the same directory and port
// (clients reconnect by themselves) and waits until nc is connected again.
// A cluster is not restarted.
func (e *env) restartServer(ctx context.Context) error {
	if e.srv == nil {
		return fmt.Errorf("restart: not a single server (mode %s)", e.mode.name)
	}
	e.srv.Shutdown()
	e.srv = nil
	if err := e.startServer(ctx); err != nil {
		return err
	}
	for !e.nc.IsConnected() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (e *env) startWorker(ctx context.Context, register func(*worker.Worker), wopts ...worker.Option) error {
	var err error
	if e.wnc, err = streams.Connect(e.url, nats.Name("cairn-bench-worker")); err != nil {
		return err
	}
	if shards > 0 {
		wopts = append(wopts, worker.WithWorkflowTaskShards(shards))
	}
	if e.w, err = worker.New(e.wnc, benchQueue, wopts...); err != nil {
		return err
	}
	register(e.w)
	wctx, cancel := context.WithCancel(context.Background())
	e.stopWorker = cancel
	e.workerDone = make(chan error, 1)
	go func() { e.workerDone <- e.w.Run(wctx) }()
	select {
	case <-e.w.Ready():
		return nil
	case err := <-e.workerDone:
		e.stopWorker = nil
		return fmt.Errorf("worker stopped before it was ready: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("worker not ready after 30s")
	}
}

// close stops the worker, the connections and the server, and removes the
// data directory.
func (e *env) close() {
	for _, p := range e.procs {
		if !p.exited() {
			if _, err := p.stop(context.Background()); err != nil {
				p.kill()
			}
		}
	}
	e.procs = nil
	if e.members != nil {
		e.members.close()
	}
	if e.stopWorker != nil {
		e.stopWorker()
		select {
		case <-e.workerDone:
		case <-time.After(30 * time.Second):
		}
		e.stopWorker = nil
	}
	if e.wnc != nil {
		e.wnc.Close()
	}
	if e.nc != nil {
		e.nc.Close()
	}
	if e.srv != nil {
		e.srv.Shutdown()
		e.srv = nil
	}
	if e.cluster != nil {
		e.cluster.Shutdown()
		e.cluster = nil
	}
	_ = os.RemoveAll(e.dir)
}

// stopWorkerNow stops the worker (gracefully) and keeps everything else.
func (e *env) stopWorkerNow() {
	if e.stopWorker == nil {
		return
	}
	e.stopWorker()
	select {
	case <-e.workerDone:
	case <-time.After(30 * time.Second):
	}
	e.stopWorker = nil
}

// logPlacement logs, on a cluster, which node leads each stream of the
// namespace and which node the client is connected to: at R1 a stream lives
// on one node, and a connection to another node reaches it over a route.
func (e *env) logPlacement(ctx context.Context) {
	names := streams.NewNames("default")
	var b strings.Builder
	fmt.Fprintf(&b, "%s: client on %s", e.mode.name, e.nc.ConnectedServerName())
	if e.wnc != nil {
		fmt.Fprintf(&b, ", worker on %s", e.wnc.ConnectedServerName())
	}
	b.WriteString("; leaders:")
	for _, name := range []string{names.HistoryStream(), names.InboxStream(), names.TasksStream()} {
		s, err := e.js.Stream(ctx, name)
		if err != nil {
			fmt.Fprintf(&b, " %s ?(%v)", name, err)
			continue
		}
		if ci := s.CachedInfo().Cluster; ci != nil {
			fmt.Fprintf(&b, " %s %s (+%d)", name, ci.Leader, len(ci.Replicas))
		}
	}
	log.Print(b.String())
}
