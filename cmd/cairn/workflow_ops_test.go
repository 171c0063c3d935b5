package main

import (
	"strings"
	"testing"
	"time"
)

func TestPauseResumeResetCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := mustCLI(t, e.wf("start", "--type", "Workflow", "--id", "order-1", "--input", orderInput("1", time.Hour))...)
	waitPendingTimer(t, e, "order-1")

	r = mustCLI(t, e.wf("pause", "--id", "order-1", "--reason", "provider down")...)
	if !strings.Contains(r.stdout, `Requested pause of workflow "order-1"`) {
		t.Fatalf("pause output: %s", r)
	}
	eventually(t, func() string {
		r = mustCLI(t, e.wf("describe", "--id", "order-1")...)
		if !strings.Contains(r.stdout, "Paused:") {
			return "describe shows no pause:\n" + r.stdout
		}
		return ""
	})
	for _, want := range []string{"Paused:", "provider down", "Cost:", "as Step Functions Standard:", "as Lambda durable functions:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("describe lacks %q:\n%s", want, r.stdout)
		}
	}
	mustCLI(t, e.wf("resume", "--id", "order-1")...)

	wantFail(t, exitUsage, "--event N", e.wf("reset", "--id", "order-1")...)
	wantFail(t, exitError, "invalid reset", e.wf("redrive", "--id", "order-1")...)
	wantFail(t, exitError, "not found", e.wf("reset", "--id", "nope", "--event", "1")...)

	r = mustCLI(t, e.wf("reset", "--id", "order-1", "--event", "1", "--reason", "start over")...)
	if !strings.Contains(r.stdout, `Workflow "order-1" continues as run `) || !strings.Contains(r.stdout, "was terminated") {
		t.Fatalf("reset output: %s", r)
	}
	// The new run starts over: it charges again and sleeps again.
	r = waitPendingTimer(t, e, "order-1")
	if !strings.Contains(r.stdout, "Reset from:") || !strings.Contains(r.stdout, "at event 1") {
		t.Errorf("describe of the reset run:\n%s", r.stdout)
	}
	mustCLI(t, e.wf("terminate", "--id", "order-1")...)
}
