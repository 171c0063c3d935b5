package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
)

// Operator commands: pause, resume, reset, redrive.

const pauseUsage = `Usage:
  cairn workflow pause --id ID [--run RUN] [--reason TEXT]

Pauses a running workflow: none of its code runs until it is resumed.
Activity results, timer fires and events that arrive meanwhile are recorded
in order and applied on resume; running activities carry on. The pause is
in history, so it survives worker and server restarts.
`

const resumeUsage = `Usage:
  cairn workflow resume --id ID [--run RUN] [--reason TEXT]

Resumes a paused workflow: its code runs on over everything that arrived.
`

const resetUsage = `Usage:
  cairn workflow reset --id ID --event N [--run RUN] [--reason TEXT] [--request-id ID]

Starts a new run whose history is the first N events of RUN (default: the
current run; the cut moves forward to the end of the workflow task holding
event N). Everything after re-executes with the current code. A running
current run is terminated in the same atomic step. Find N with
'cairn workflow history'.
`

const redriveUsage = `Usage:
  cairn workflow redrive --id ID [--run RUN] [--reason TEXT]

Continues a failed or timed-out run from the step that failed, keeping the
steps that succeeded; the failed step runs again from attempt 1.
`

func wfPause(ctx context.Context, g globalFlags, args []string, stdout io.Writer, resume bool) error {
	verb, usage := "pause", pauseUsage
	if resume {
		verb, usage = "resume", resumeUsage
	}
	var reason *string
	return onRun(ctx, g, args, stdout, verb, usage, "only if this is the current `run`",
		func(fs *flag.FlagSet) { reason = fs.String("reason", "", "reason `text`, recorded in history") },
		func(ctx context.Context, cl *client.Client, id, run string) error {
			if resume {
				if err := cl.Resume(ctx, id, run, *reason); err != nil {
					return g.notFound(err, id, run)
				}
				fmt.Fprintf(stdout, "Requested resume of workflow %q.\n", id)
				return nil
			}
			if err := cl.Pause(ctx, id, run, *reason); err != nil {
				return g.notFound(err, id, run)
			}
			fmt.Fprintf(stdout, "Requested pause of workflow %q.\n", id)
			return nil
		})
}

func wfReset(ctx context.Context, g globalFlags, args []string, stdout io.Writer, redrive bool) error {
	verb, usage := "reset", resetUsage
	if redrive {
		verb, usage = "redrive", redriveUsage
	}
	var reason, requestID *string
	var event *int64
	return onRun(ctx, g, args, stdout, verb, usage, "`run` to cut from (default: the current run)",
		func(fs *flag.FlagSet) {
			reason = fs.String("reason", "", "reason `text`, recorded in history")
			if !redrive {
				event = fs.Int64("event", 0, "last event `N` to keep (required)")
				requestID = fs.String("request-id", "", "`id` that makes a retried reset idempotent")
			}
		},
		func(ctx context.Context, cl *client.Client, id, run string) error {
			var r *client.ResetResult
			var err error
			if redrive {
				r, err = cl.Redrive(ctx, id, run, *reason)
			} else {
				if *event < 1 {
					return usageErrorf("cairn workflow reset", "--event N (>= 1) is required")
				}
				r, err = cl.Reset(ctx, id, client.ResetOptions{Run: run, EventSeq: *event, Reason: *reason, RequestID: *requestID})
			}
			if err != nil {
				return g.notFound(err, id, run)
			}
			fmt.Fprintf(stdout, "Workflow %q continues as run %s, from event %d of the old run.\n", id, r.Run, r.EventSeq)
			if r.Terminated != "" {
				fmt.Fprintf(stdout, "Run %s was terminated.\n", r.Terminated)
			}
			return nil
		})
}

// printOperations adds pause, reset origin and cost to a description.
func printOperations(w io.Writer, d *client.Description, now time.Time) error {
	tw := newTable(w)
	if d.Paused != nil {
		line := "since " + relTime(d.PausedSince, now)
		if d.Paused.Reason != "" {
			line += ": " + d.Paused.Reason
		}
		fmt.Fprintf(tw, "Paused:\t%s\n", line)
	}
	if r := d.ResetFrom; r != nil {
		fmt.Fprintf(tw, "%s from:\trun %s at event %d\n", map[string]string{"reset": "Reset", "redrive": "Redriven"}[r.Kind], r.Run, r.EventSeq)
	}
	if c := d.Cost; c != nil {
		fmt.Fprintf(tw, "Cost:\t%d workflow tasks, %d activity attempts, %s active, %s suspended\n",
			c.WorkflowTasks, c.ActivityAttempts, c.ActiveCompute.Round(time.Microsecond), c.Suspended.Round(time.Millisecond))
		fmt.Fprintf(tw, "  as Step Functions Standard:\t%d state transitions = $%.6f\n", c.StateTransitions, c.StepFunctionsUSD)
		fmt.Fprintf(tw, "  as Lambda durable functions:\t%d durable operations = $%.6f\n", c.DurableOperations, c.LambdaDurableUSD)
	}
	return tw.Flush()
}
