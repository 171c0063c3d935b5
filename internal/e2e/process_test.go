package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/e2e/flows"
	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/testenv"
)

// TestWorkerProcessSIGKILL runs the worker as a separate OS process and
// kills it with SIGKILL at random points, several times.
func TestWorkerProcessSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a worker binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "crashworker")
	build := exec.Command("go", "build", "-o", bin, "./testdata/crashworker")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build worker: %v\n%s", err, out)
	}
	env := testenv.New(t)
	record := filepath.Join(dir, "executions")
	startProc := func() *exec.Cmd {
		cmd := exec.Command(bin, "-url", env.URL(), "-record", record)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	ctx := testCtx(t, 3*time.Minute)
	proc := startProc()
	t.Cleanup(func() { _ = proc.Process.Kill(); _ = proc.Wait() })

	// The worker registers its types when it starts; wait for that.
	c := env.Client(t)
	const n = 50
	for i := 0; i < n; {
		_, err := c.Start(ctx, client.StartOptions{ID: fmt.Sprintf("proc-%02d", i)}, flows.Steps, fmt.Sprintf("proc-%02d", i))
		if err != nil && strings.Contains(err.Error(), "unknown workflow type") {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		i++
	}
	rng := rand.New(rand.NewPCG(3, 4))
	midFlight := 0
	for range 3 {
		time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
		if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = proc.Wait()
		if closedCount(t, c) < n {
			midFlight++
		}
		proc = startProc()
	}
	if midFlight == 0 {
		t.Fatal("every SIGKILL came after all workflows closed")
	}
	for i := range n {
		id := fmt.Sprintf("proc-%02d", i)
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		events := checkHistory(t, c, id)
		if got != 5 || count(events, history.TypeActivityCompleted) != 5 {
			t.Fatalf("%s: result %d, %d activities completed", id, got, count(events, history.TypeActivityCompleted))
		}
	}
	execs := executions(t, record)
	t.Logf("%d activity executions across SIGKILLs for %d activities closed in history", execs, 5*n)
	if execs < 5*n {
		t.Fatalf("only %d executions recorded", execs)
	}
}

// buildCrashWorker builds the worker program the process tests run.
func buildCrashWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashworker")
	build := exec.Command("go", "build", "-o", bin, "./testdata/crashworker")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build worker: %v\n%s", err, out)
	}
	return bin
}

// TestWorkerProcessesSIGKILLShareAQueue runs 2, 4 and 8 worker processes
// on one queue and kills one of them with SIGKILL at random, several
// times, starting a new one each time: the partitions of the dead process
// move to the others within seconds, and every instance completes with the
// right result and a clean history.
func TestWorkerProcessesSIGKILLShareAQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs worker binaries")
	}
	bin := buildCrashWorker(t)
	for i, n := range []int{2, 4, 8} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) { sigkillProcesses(t, bin, n, uint64(i)) })
	}
}

// sigkillProcesses is TestWorkerProcessesSIGKILLShareAQueue with procs
// worker processes; seed picks whom to kill and when.
func sigkillProcesses(t *testing.T, bin string, procs int, seed uint64) {
	env := testenv.New(t)
	record := filepath.Join(t.TempDir(), "executions")
	startProc := func() *exec.Cmd {
		cmd := exec.Command(bin, "-url", env.URL(), "-record", record)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	running := make([]*exec.Cmd, procs)
	for i := range running {
		running[i] = startProc()
	}
	t.Cleanup(func() {
		for _, p := range running {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	})
	ctx := testCtx(t, 4*time.Minute)
	c := env.Client(t)
	// The workers register their types when they start; wait for that.
	testutil.Eventually(t, 30*time.Second, func() error {
		_, err := c.Start(ctx, client.StartOptions{ID: "procs-ready"}, flows.Scaled, "procs-ready")
		return err
	})
	if err := c.Signal(ctx, "procs-ready", "", "bonus", 1000); err != nil {
		t.Fatal(err)
	}
	n := scaledInstances()
	started := make(chan error, 1)
	go func() { started <- startScaled(ctx, c, "procs", n) }()
	rng := rand.New(rand.NewPCG(7, 8+seed))
	midFlight := 0
	for range 4 {
		awaitSteps(t, record, 50+rng.IntN(n), func() bool { return closedCount(t, c) == n+1 })
		i := rng.IntN(len(running))
		if err := running[i].Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = running[i].Wait()
		if closedCount(t, c) < n {
			midFlight++
		}
		running[i] = startProc()
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if midFlight == 0 {
		t.Fatal("every SIGKILL came after all workflows closed")
	}
	// procs-ready ran its five steps too.
	extra := checkScaled(t, ctx, c, "procs", n, record) - 5
	t.Logf("%d instances on %d processes, 4 SIGKILLs: %d steps ran more than once", n, procs, extra)
}
