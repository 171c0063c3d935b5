package main

import (
	"fmt"
	"strings"
	"testing"
)

func (e *env) sched(args ...string) []string {
	return append([]string{"schedule", "--server", e.url}, args...)
}

// TestScheduleCLI drives a schedule through every command.
func TestScheduleCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := mustCLI(t, e.sched("create", "--id", "nightly", "--spec", "*/5 * * * *", "--tz", "Europe/Paris", "--type", "Workflow",
		"--input", orderInput("9", 0), "--overlap", "buffer-one", "--paused", "--note", "set up")...)
	if !strings.Contains(r.stdout, `Created schedule "nightly" (*/5 * * * * Europe/Paris`) || !strings.Contains(r.stdout, "Paused") {
		t.Fatalf("create output:\n%s", r)
	}
	wantFail(t, exitError, "already exists", e.sched("create", "--id", "nightly", "--spec", "@hourly", "--type", "Workflow")...)
	wantFail(t, exitError, "invalid schedule", e.sched("create", "--id", "bad", "--spec", "@every 100ms", "--type", "Workflow")...)
	wantFail(t, exitError, "unknown workflow type", e.sched("create", "--id", "bad", "--spec", "@hourly", "--type", "Nope")...)
	wantFail(t, exitUsage, "--overlap", e.sched("create", "--id", "bad", "--spec", "@hourly", "--type", "Workflow", "--overlap", "maybe")...)
	wantFail(t, exitUsage, "--spec is required", e.sched("create", "--id", "bad", "--type", "Workflow")...)

	r = mustCLI(t, e.sched("list")...)
	if !strings.Contains(r.stdout, "nightly") || !strings.Contains(r.stdout, "paused") || !strings.Contains(r.stdout, "buffer-one") {
		t.Fatalf("list output:\n%s", r)
	}
	r = mustCLI(t, e.sched("describe", "--id", "nightly")...)
	for _, want := range []string{"Schedule ID:", "nightly", "State:", "paused", "set up", "Catch-up:", "latest"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("describe lacks %q:\n%s", want, r)
		}
	}
	mustCLI(t, e.sched("unpause", "--id", "nightly")...)
	r = mustCLI(t, e.sched("describe", "--id", "nightly", "--json")...)
	if !strings.Contains(r.stdout, `"spec": "*/5 * * * *"`) || strings.Contains(r.stdout, `"paused": true`) {
		t.Fatalf("describe --json:\n%s", r)
	}
	mustCLI(t, e.sched("pause", "--id", "nightly", "--note", "later")...)

	// A trigger starts a run through the worker's scheduler runner.
	r = mustCLI(t, e.sched("trigger", "--id", "nightly")...)
	_, rest, _ := strings.Cut(r.stdout, "the run is \"")
	wid, _, _ := strings.Cut(rest, "\"")
	if wid == "" {
		t.Fatalf("trigger output:\n%s", r)
	}
	eventually(t, func() string {
		if r := cli(t, e.wf("result", "--id", wid, "--timeout", "30s")...); r.code != 0 || !strings.Contains(r.stdout, "trk_9") {
			return fmt.Sprintf("triggered run %q has not completed: %s", wid, r)
		}
		return ""
	})

	mustCLI(t, e.sched("delete", "--id", "nightly")...)
	wantFail(t, exitError, `schedule "nightly" not found`, e.sched("describe", "--id", "nightly")...)
	r = mustCLI(t, e.sched("list")...)
	if !strings.Contains(r.stdout, "No schedules") {
		t.Fatalf("list after delete:\n%s", r)
	}
}
