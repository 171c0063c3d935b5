package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/streams"
)

// TestMain lets the test binary be a worker process too: the tests that
// start worker processes re-execute it as `<test binary> worker ...`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		workerMain(os.Args[2:])
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestWorkerProcesses is a smoke test of the worker-process mode of SCALE,
// FAILOVER and TIMERKILL: two processes serve the queue, report their
// counters, and a third one can be killed. It checks the machinery, not
// performance.
func TestWorkerProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := newProcEnv(ctx, modeDefault, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	q0, err := e.quiet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	if _, err := startAndWait(ctx, e, "smoke", n, 8, Sequential, 1); err != nil {
		t.Fatal(err)
	}
	q1, err := e.quiet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := q1.delivered - q0.delivered; got < 2*n {
		t.Errorf("%d workflow task deliveries for %d workflows of one activity, want at least %d", got, n, 2*n)
	}
	if err := e.addProc(ctx); err != nil {
		t.Fatal(err)
	}
	killed := e.procs[len(e.procs)-1]
	e.procs = e.procs[:len(e.procs)-1]
	killed.kill()
	if !killed.exited() {
		t.Error("a killed worker process is still there")
	}
	st, err := e.stopProcs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Each workflow commits its start task and the task of its result.
	if st["task.committed"] < 2*n {
		t.Errorf("worker processes counted %d committed workflow tasks, want at least %d (counters %v)", st["task.committed"], 2*n, st)
	}
}

// TestClusterMode runs a few workflows on the cluster-r3 mode with one
// worker process: the namespace, which the bench, the client and the worker
// process all provision with the mode's replica count, ends up at R3 on a
// 3-node cluster, and the worker process reaches it through the URL list.
func TestClusterMode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	m, err := parseMode("cluster-r3", 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := newProcEnv(ctx, m, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	if got := strings.Count(e.url, ","); got != 2 {
		t.Errorf("url %q: want the 3 nodes' URLs", e.url)
	}
	if _, err := startAndWait(ctx, e, "cl", 10, 4, Sequential, 1); err != nil {
		t.Fatal(err)
	}
	r, err := streams.NamespaceReplicas(ctx, e.js, "default")
	if err != nil {
		t.Fatal(err)
	}
	if r != 3 {
		t.Errorf("namespace at %d replicas, want 3", r)
	}
	if _, err := e.stopProcs(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestParseMode(t *testing.T) {
	for _, c := range []struct {
		name  string
		nodes int
		want  mode
		bad   bool
	}{
		{"default", 3, modeDefault, false},
		{"sync-always", 3, modeSync, false},
		{"cluster-r1", 3, mode{name: "cluster-r1", nodes: 3, replicas: 1}, false},
		{"cluster-r3", 3, mode{name: "cluster-r3", nodes: 3, replicas: 3}, false},
		{"cluster-r3", 2, mode{}, true},
		{"cluster-r0", 3, mode{}, true},
		{"cluster-r1", 1, mode{}, true},
		{"cluster-r3x", 3, mode{}, true},
		{"cluster", 3, mode{}, true},
	} {
		got, err := parseMode(c.name, c.nodes)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("parseMode(%q, %d) = %+v, %v", c.name, c.nodes, got, err)
		}
	}
}
