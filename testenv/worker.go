package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
)

// Worker is a cairn worker running inside the test process on its own
// connection, so it can be stopped cleanly or killed abruptly.
type Worker struct {
	*worker.Worker
	nc     *nats.Conn
	cancel context.CancelFunc
	done   chan error
}

// StartWorker runs a worker for queue with what register registers. It
// uses a short park retry (200ms) and workflow task timeout (2s), so tests
// of parking and of crashed workers do not wait long; opts come after them
// and may override them. An invalid option fails t. The worker is stopped
// when the test ends.
func (e *Env) StartWorker(t testing.TB, queue string, register func(w *worker.Worker), opts ...worker.Option) *Worker {
	t.Helper()
	nc := e.NewConn(t)
	base := []worker.Option{
		worker.WithNamespace(e.Namespace()),
		worker.WithParkRetry(200 * time.Millisecond),
		worker.WithWorkflowTaskTimeout(2 * time.Second),
	}
	w, err := worker.New(nc, queue, append(base, opts...)...)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	register(w)
	ctx, cancel := context.WithCancel(context.Background())
	tw := &Worker{Worker: w, nc: nc, cancel: cancel, done: make(chan error, 1)}
	go func() { tw.done <- w.Run(ctx) }()
	t.Cleanup(tw.Stop)
	select {
	case <-w.Ready():
	case err := <-tw.done:
		t.Fatalf("testenv: worker stopped before it was ready: %v", err)
	case <-time.After(setupTimeout):
		t.Fatalf("testenv: worker not ready after %s", setupTimeout)
	}
	return tw
}

// Stop shuts the worker down gracefully and waits for it.
func (w *Worker) Stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
	}
	w.cancel = nil
	w.nc.Close()
}

// Kill simulates a crash: the connection drops at once (nothing in flight
// is acknowledged or published any more) and the worker's goroutines are
// abandoned without waiting for them.
func (w *Worker) Kill() {
	if w.cancel == nil {
		return
	}
	w.nc.Close()
	w.cancel()
	w.cancel = nil
}

// Client returns a client of the env's namespace on the env's connection.
func (e *Env) Client(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	c, err := client.New(ctx, e.Conn(), client.WithNamespace(e.Namespace()))
	if err != nil {
		t.Fatalf("testenv: client: %v", err)
	}
	return c
}
