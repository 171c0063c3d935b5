package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/testenv"
)

// TestWorkerSweepsStrays: messages published on inbox and task subjects
// that no consumer reads are moved to the dead letters by a workflow
// worker as it starts, with their reason, and leave the work queues; a
// workflow on the same worker runs as usual.
func TestWorkerSweepsStrays(t *testing.T) {
	env := testenv.New(t)
	ctx := testCtx(t, time.Minute)
	strays := []string{"cairn.default.inbox.default.999.x", "cairn.default.task.default.Charge.extra"}
	for _, subj := range strays {
		if _, err := env.JetStream().Publish(ctx, subj, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	env.StartWorker(t, "default", func(w *worker.Worker) { w.RegisterWorkflow(Echo) })
	dead, err := env.JetStream().Stream(ctx, env.Names().DeadLetterStream())
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		info, err := dead.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != uint64(len(strays)) {
			return fmt.Errorf("%d dead letters, want %d", info.State.Msgs, len(strays))
		}
		return nil
	})
	for seq := uint64(1); seq <= uint64(len(strays)); seq++ {
		m, err := dead.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if subj := m.Header.Get(streams.HeaderDeadSubject); m.Header.Get(streams.HeaderDeadReason) != "stray: no consumer reads subject "+subj {
			t.Errorf("dead letter of %s: reason %q", subj, m.Header.Get(streams.HeaderDeadReason))
		}
	}
	for _, stream := range []string{env.Names().InboxStream(), env.Names().TasksStream()} {
		s, _ := env.JetStream().Stream(ctx, stream)
		info, err := s.Info(ctx, jetstreamSubjects(">"))
		if err != nil {
			t.Fatal(err)
		}
		for _, subj := range strays {
			if info.State.Subjects[subj] > 0 {
				t.Errorf("%s still holds %s", stream, subj)
			}
		}
	}
	var got string
	run, err := env.Client(t).Start(ctx, client.StartOptions{ID: "swept"}, Echo, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, &got); err != nil || got != "hello" {
		t.Fatalf("result %q, %v", got, err)
	}
}
