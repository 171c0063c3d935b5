package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/telemetry"
)

// Worker processes.
//
// The scale and failover benchmarks run the engine's worker in separate OS
// processes: the bench binary re-executes itself as `bench worker -url URL`
// (os.Executable; under `go run` that is the binary go run built, which
// lives until the program exits, so every process runs the same build). A
// worker process registers what the in-process bench worker registers
// (registerAll) and serves the queue until it is told to stop or killed.
//
// The parent talks to it over its standard streams, one line each way:
//
//	stdout  "ready <worker id>"   once the worker is serving
//	stdin   "stats"               asks for the counters so far
//	stdout  "stats <json>"        the counters (procStats), also written once
//	                              more after a graceful stop
//
// SIGTERM or SIGINT, or the end of its standard input (the parent died),
// stops the worker gracefully: it leaves the queue, hands its partitions
// back, prints its final counters and exits 0. SIGKILL is the crash the
// failover benchmarks cause.

// procStats are a worker process's counters, read from the engine's own
// metrics (a manual OpenTelemetry reader in the process): workflow tasks by
// cairn.task.outcome ("task.committed", "task.empty", "task.conflict",
// "task.parked", "task.error") and sticky cache lookups ("cache.hit",
// "cache.miss").
type procStats map[string]int64

func (s procStats) add(o procStats) {
	for k, v := range o {
		s[k] += v
	}
}

func (s procStats) sub(o procStats) procStats {
	d := procStats{}
	for k, v := range s {
		d[k] = v - o[k]
	}
	return d
}

// workerProcessEnv marks a worker process in its environment: a worker process never
// starts worker processes, so a binary that re-executes itself without
// dispatching to workerMain (a test binary without TestMain) fails instead
// of multiplying.
const workerProcessEnv = "CAIRN_BENCH_WORKER_PROCESS"

// workerMain is the worker process: `bench worker -url URL [flags]` (URL:
// one server's, or a cluster's list).
func workerMain(args []string) {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	var (
		url    = fs.String("url", "", "server URL (a comma-separated list for a cluster)")
		ns     = fs.String("ns", "default", "namespace")
		name   = fs.String("name", "cairn-bench-worker", "connection name")
		nshard = fs.Int("shards", 0, "orchestrator shards (0: the engine's default)")
		nrepl  = fs.Int("replicas", 0, "the namespace's replica count (worker.WithReplicas; 0: none given)")
	)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench worker -url URL [flags]\n\nA bench worker process, started by the scale and failover benchmarks; see proc.go.")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	if *url == "" {
		fs.Usage()
		os.Exit(2)
	}
	if err := serveWorker(*url, *ns, *name, *nshard, *nrepl); err != nil {
		fmt.Fprintf(os.Stderr, "bench worker %s: %v\n", *name, err)
		os.Exit(1)
	}
}

func serveWorker(url, ns, name string, nshard, replicas int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	nc, err := streams.Connect(url, nats.Name(name))
	if err != nil {
		return err
	}
	defer nc.Close()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	opts := []worker.Option{worker.WithNamespace(ns), worker.WithMeterProvider(mp),
		worker.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))}
	if nshard > 0 {
		opts = append(opts, worker.WithWorkflowTaskShards(nshard))
	}
	if replicas > 0 {
		opts = append(opts, worker.WithReplicas(replicas))
	}
	w, err := worker.New(nc, benchQueue, opts...)
	if err != nil {
		return err
	}
	registerAll(w)

	var outMu sync.Mutex
	say := func(format string, a ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Printf(format+"\n", a...)
	}
	report := func() {
		b, _ := json.Marshal(collectStats(reader))
		say("stats %s", b)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
			if strings.TrimSpace(s.Text()) == "stats" {
				report()
			}
		}
		cancel() // the parent is gone or closed our input: stop
	}()
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	select {
	case <-w.Ready():
		say("ready %s", w.ID())
	case err := <-done:
		return fmt.Errorf("stopped before it was ready: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	report()
	return nil
}

// collectStats reads the engine's task outcome and cache lookup counts.
func collectStats(r *sdkmetric.ManualReader) procStats {
	var rm metricdata.ResourceMetrics
	st := procStats{}
	if err := r.Collect(context.Background(), &rm); err != nil {
		return st
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case telemetry.MetricWorkflowTaskDuration:
				if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
					for _, dp := range h.DataPoints {
						v, _ := dp.Attributes.Value(telemetry.AttrTaskOutcome)
						st["task."+v.AsString()] += int64(dp.Count)
					}
				}
			case telemetry.MetricCacheLookups:
				if s, ok := m.Data.(metricdata.Sum[int64]); ok {
					for _, dp := range s.DataPoints {
						v, _ := dp.Attributes.Value(telemetry.AttrCacheResult)
						st["cache."+v.AsString()] += dp.Value
					}
				}
			}
		}
	}
	return st
}

// workerProc is the parent's handle on a worker process.
type workerProc struct {
	name  string
	id    string // the worker's id, as it announced it
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout lines after "ready"; closed at EOF
	mu    sync.Mutex  // one stats request at a time
	done  chan struct{}
	err   error // of Wait, once done is closed
}

// startWorkerProc starts a worker process on url (a list of a cluster's
// URLs) and waits until it serves the queue; replicas > 0 is the
// namespace's replica count, which the worker provisions.
func startWorkerProc(ctx context.Context, url, name string, replicas int) (*workerProc, error) {
	if os.Getenv(workerProcessEnv) != "" {
		return nil, fmt.Errorf("worker process %s: this process is a worker process itself (%s is set)", name, workerProcessEnv)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("worker process: %w", err)
	}
	args := []string{"worker", "-url", url, "-name", name}
	if shards > 0 {
		args = append(args, "-shards", fmt.Sprint(shards))
	}
	if replicas > 0 {
		args = append(args, "-replicas", fmt.Sprint(replicas))
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), workerProcessEnv+"=1")
	cmd.Stderr = os.Stderr
	p := &workerProc{name: name, cmd: cmd, lines: make(chan string, 16), done: make(chan struct{})}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("worker process %s: %w", name, err)
	}
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.done
				return nil, fmt.Errorf("worker process %s exited before it was ready: %v", name, p.err)
			}
			if id, found := strings.CutPrefix(l, "ready "); found {
				p.id = id
				return p, nil
			}
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-t.C:
			p.kill()
			return nil, fmt.Errorf("worker process %s not ready after 30s", name)
		}
	}
}

// readStats waits for the next "stats" line.
func (p *workerProc) readStats(ctx context.Context) (procStats, error) {
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("worker process %s: output ended without its counters", p.name)
			}
			if b, found := strings.CutPrefix(l, "stats "); found {
				st := procStats{}
				if err := json.Unmarshal([]byte(b), &st); err != nil {
					return nil, fmt.Errorf("worker process %s: counters: %w", p.name, err)
				}
				return st, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// stats asks a running worker process for its counters so far.
func (p *workerProc) stats(ctx context.Context) (procStats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.stdin, "stats\n"); err != nil {
		return nil, fmt.Errorf("worker process %s: %w", p.name, err)
	}
	return p.readStats(ctx)
}

// stop stops the worker process gracefully (SIGTERM) and returns its final
// counters.
func (p *workerProc) stop(ctx context.Context) (procStats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return nil, fmt.Errorf("worker process %s had exited: %v", p.name, p.err)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := p.readStats(ctx)
	if err != nil {
		p.kill()
		return nil, err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.kill()
		return st, fmt.Errorf("worker process %s did not exit", p.name)
	}
	if p.err != nil {
		return st, fmt.Errorf("worker process %s: %w", p.name, p.err)
	}
	return st, nil
}

// kill kills the worker process (SIGKILL: no goodbye, no hand-over) and
// waits until it is gone.
func (p *workerProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	go func() {
		for range p.lines { // drain what it wrote before it died
		}
	}()
	<-p.done
}

// exited reports whether the process is gone.
func (p *workerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
