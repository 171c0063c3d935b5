package main

import (
	"context"
	"os"
	"testing"
	"time"
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
