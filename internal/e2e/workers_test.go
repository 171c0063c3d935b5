package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/e2e/flows"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/testenv"
)

// TestTwoWorkersOnOneQueue runs workflows on two workers of one task
// queue, on a single server. It fails today, so it only runs with
// CAIRN_KNOWN_BUGS=1: both workers consume the queue's inbox and keep the
// instances they ran in their caches. When worker B has committed an
// instance's last batch (an activity result and the next activity
// scheduled), worker A's cached copy is stale; A takes the next activity's
// result, its copy does not know that activity, the executor drops the
// result as unknown, the batch is empty, nothing is appended (so no
// conditional append reports the stale copy) and the result is
// acknowledged: lost, and the run waits forever. Seen within a few seconds
// with 100 runs of flows.Steps.
func TestTwoWorkersOnOneQueue(t *testing.T) {
	if os.Getenv("CAIRN_KNOWN_BUGS") == "" {
		t.Skip("known bug: a stale cached instance drops inbox events (set CAIRN_KNOWN_BUGS=1 to run)")
	}
	const n = 100
	env := testenv.New(t)
	record := filepath.Join(t.TempDir(), "executions")
	ctx := testCtx(t, 40*time.Second)
	c := env.Client(t)
	for range 2 {
		env.StartWorker(t, "default", registerSteps(record))
	}
	for i := range n {
		id := fmt.Sprintf("two-%03d", i)
		if _, err := c.Start(ctx, client.StartOptions{ID: id}, flows.Steps, id); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("two-%03d", i)
		var got int
		if err := c.Result(ctx, id, "", &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		checkHistory(t, c, id)
	}
}
