// Command crashworker is a cairn worker that the end-to-end tests run as a
// separate process and kill with SIGKILL.
package main

import (
	"context"
	"flag"
	"log"
	"os/signal"
	"syscall"
	"time"

	"github.com/cairnhq/cairn/internal/e2e/flows"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/streams"
)

func main() {
	url := flag.String("url", "", "NATS URL")
	record := flag.String("record", "", "file that counts activity executions")
	hang := flag.Bool("hang", false, "serve only the Hang activity (flows.Recorder.Hang)")
	flag.Parse()
	nc, err := streams.Connect(*url)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	w, err := worker.New(nc, "default", worker.WithWorkflowTaskTimeout(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	if *hang {
		w.RegisterActivity(flows.Recorder{Path: *record}.Hang, worker.WithName("Hang"))
	} else {
		w.RegisterWorkflow(flows.Steps)
		w.RegisterWorkflow(flows.Scaled)
		w.RegisterActivity(flows.Recorder{Path: *record}.Record, worker.WithName("Record"), worker.WithHeartbeatTimeout(time.Second))
	}
	if err := w.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
