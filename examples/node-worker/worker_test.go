// Package nodeworker_test runs the Node.js worker of this directory against
// an embedded NATS server and the Go demo workflow (examples/order).
package nodeworker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/internal/testutil"

	"github.com/cairnhq/cairn/examples/order"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
)

// TestNodeWorkerServesShip: the Go worker runs the order workflow and every
// activity but Ship; Ship is served only by worker.js, through the wire
// protocol. .ci/run installs its npm dependencies (npm ci).
func TestNodeWorkerServesShip(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the Node.js worker example cannot run (install Node.js 18+ to run this test)")
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "nats")); err != nil {
		// Not installed yet (a fresh checkout outside .ci/run): install
		// exactly the locked dependencies.
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("node_modules missing and npm not on PATH: run 'npm ci --prefix examples/node-worker'")
		}
		out, err := exec.Command(npm, "ci", "--prefix", dir, "--no-audit", "--no-fund").CombinedOutput()
		if err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}

	env := testenv.New(t)
	env.StartWorker(t, "default", func(w *worker.Worker) {
		w.RegisterWorkflow(order.Workflow)
		for _, a := range []any{order.Charge, order.Refund, order.Reserve, order.Release} {
			w.RegisterActivity(a)
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "worker.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NATS_URL="+env.URL(), "CAIRN_NAMESPACE=default", "CAIRN_QUEUE=default")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines syncBuffer
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			lines.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "serving Ship") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("node stdout:\n%s\nnode stderr:\n%s", lines.String(), stderr.String())
		}
	})
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("the Node.js worker did not start:\n%s\n%s", lines.String(), stderr.String())
	}

	c := env.Client(t)
	wctx, wcancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer wcancel()
	run, err := c.Start(wctx, client.StartOptions{ID: "node-order-1"}, order.Workflow,
		order.Order{ID: "n1", Customer: "ada", Item: "book", Quantity: 1, AmountCt: 1299})
	if err != nil {
		t.Fatal(err)
	}
	var receipt order.Receipt
	if err := run.Get(wctx, &receipt); err != nil {
		t.Fatal(err)
	}
	if receipt.Tracking != "trk_n1" || receipt.ChargeID != "ch_n1_1" {
		t.Fatalf("receipt %+v", receipt)
	}
	// The worker logs after its ack, which may be just after the result.
	waitOutput(t, &lines, func(s string) bool { return strings.Contains(s, "Ship node-order-1/") }, "Ship served by node for node-order-1")
	// Ship has a start-to-close timeout: the worker armed its attempt timer
	// (a rejected schedule would have thrown) and the result purged it.
	if !strings.Contains(lines.String(), "(attempt timer armed)") {
		t.Fatalf("Ship ran without arming its attempt timer:\n%s", lines.String())
	}
	inbox, err := env.JetStream().Stream(wctx, env.Names().InboxStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := inbox.Info(wctx, jetstream.WithSubjectFilter(env.Names().TimerInstanceFilter("node-order-1")))
	if err != nil {
		t.Fatal(err)
	}
	for subj := range info.State.Subjects {
		if strings.Contains(subj, ".h") {
			t.Fatalf("attempt timer %s left after the result", subj)
		}
	}

	// A failure thrown in JavaScript comes back as a failure in Go, after
	// the retry policy's attempts, and the order is compensated.
	run, err = c.Start(wctx, client.StartOptions{ID: "node-order-2"}, order.Workflow,
		order.Order{ID: "n2", Customer: "ada", Item: "", Quantity: 1, AmountCt: 1299})
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(wctx, nil)
	var ae *failure.ApplicationError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "nothing to ship") {
		t.Fatalf("err %v", err)
	}
	waitOutput(t, &lines, func(s string) bool { return strings.Count(s, "Ship node-order-2/") == 3 }, "3 attempts of Ship for node-order-2")
}

func waitOutput(t *testing.T, b *syncBuffer, ok func(string) bool, what string) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		if !ok(b.String()) {
			return fmt.Errorf("no %s in the worker's output:\n%s", what, b.String())
		}
		return nil
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) WriteString(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
