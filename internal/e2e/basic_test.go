package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/sdk/workflow"
	"github.com/cairnhq/cairn/streams"
	"github.com/nats-io/nats.go"
)

func Add(ctx context.Context, in [2]int) (int, error) { return in[0] + in[1], nil }

func Sequential(ctx workflow.Context, n int) (int, error) {
	sum := 0
	for i := 0; i < n; i++ {
		v, err := workflow.ExecuteActivity(ctx, Add, [2]int{sum, i}).Get(ctx)
		if err != nil {
			return 0, err
		}
		sum = v
	}
	return sum, nil
}

func TestScratchSequential(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := streams.StartServer(ctx, streams.WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	w := worker.New(nc, "default")
	w.RegisterWorkflow(Sequential)
	w.RegisterActivity(Add)
	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w.Run(wctx) }()
	defer func() { wcancel(); <-done }()
	time.Sleep(200 * time.Millisecond)
	c, err := client.New(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Start(ctx, client.StartOptions{ID: "seq-1"}, Sequential, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != 45 {
		t.Fatalf("got %d", got)
	}
	hist, _ := c.History(ctx, "seq-1", "")
	for _, ev := range hist {
		fmt.Println(ev.Seq, ev.Type)
	}
}
