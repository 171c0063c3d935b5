package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/schedules"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/streams"
)

const scheduleUsage = `Usage:
  cairn schedule [--server URL] [--namespace NS] <command> [flags]

Commands:
  create     create a schedule that starts a workflow on a cron spec or interval
  list       list the schedules
  describe   show a schedule: policies, next fire, counters, recent outcomes
  pause      stop a schedule from firing
  unpause    let a paused schedule fire again
  trigger    fire a schedule now
  delete     delete a schedule

Schedules fire from every worker and from 'cairn dev' / 'cairn server';
docs/schedules.md explains specs and policies.
`

func cmdSchedule(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := defaultGlobals()
	grp, err := parseGroup("cairn schedule", scheduleUsage, &g, args, stdout,
		"missing command: create, list, describe, pause, unpause, trigger or delete")
	if err != nil {
		return err
	}
	sub, rest := grp.fs.Arg(0), grp.fs.Args()[1:]
	switch sub {
	case "create":
		return schedCreate(ctx, g, rest, stdout)
	case "list", "ls":
		return schedList(ctx, g, rest, stdout)
	case "describe":
		return schedDescribe(ctx, g, rest, stdout)
	case "pause", "unpause":
		return schedPause(ctx, g, rest, stdout, sub == "pause")
	case "trigger":
		return schedTrigger(ctx, g, rest, stdout)
	case "delete", "rm":
		return schedDelete(ctx, g, rest, stdout)
	case "help":
		grp.printUsage(stdout)
		return nil
	}
	return usageErrorf(grp.name, "unknown command %q", sub)
}

// scheduleError names the namespace in a schedule's not-found error.
func (g *globalFlags) scheduleError(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrScheduleNotFound):
		return &cliError{err: err, msg: fmt.Sprintf("schedule %q not found in namespace %q", id, g.namespace)}
	case errors.Is(err, client.ErrScheduleExists):
		return &cliError{err: err, msg: fmt.Sprintf("schedule %q already exists in namespace %q (delete it first)", id, g.namespace)}
	case errors.Is(err, client.ErrInvalidSchedule):
		return &cliError{err: err, msg: err.Error()}
	}
	return err
}

const scheduleCreateUsage = `Usage:
  cairn schedule create --id ID --spec SPEC --type TYPE [--tz ZONE] [--queue QUEUE]
                        [--input JSON] [--id-prefix PREFIX] [--overlap skip|buffer-one|allow-all]
                        [--catch-up none|latest|all] [--catch-up-window D] [--execution-timeout D]
                        [--paused] [--note TEXT]

Creates a schedule that starts a run of workflow TYPE at every fire. SPEC is
'@every 10m' (whole seconds, at least 1s), a 6-field cron 'sec min hour dom
mon dow', a 5-field cron 'min hour dom mon dow', or @hourly, @daily, @weekly,
@monthly, @yearly. Each run's workflow id is PREFIX plus the fire time, so a
fire never starts two runs.
`

func schedCreate(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn schedule create", scheduleCreateUsage, stdout)
	g.register(c.fs)
	var o client.ScheduleOptions
	var typ, input, overlap, catchUp string
	c.fs.StringVar(&o.ID, "id", "", "schedule `id` (required)")
	c.fs.StringVar(&o.Spec, "spec", "", "when it fires: `SPEC` (required)")
	c.fs.StringVar(&o.TimeZone, "tz", "", "IANA time `zone` of a cron spec (default UTC)")
	c.fs.StringVar(&typ, "type", "", "workflow `type` to start (required)")
	c.fs.StringVar(&o.TaskQueue, "queue", "default", "task `queue` of the runs")
	c.fs.StringVar(&input, "input", "", "input of every run as `JSON` (default null)")
	c.fs.StringVar(&o.WorkflowIDPrefix, "id-prefix", "", "workflow id `prefix` of the runs (default ID-)")
	c.fs.StringVar(&overlap, "overlap", "skip", "`policy` while the previous run runs: skip, buffer-one or allow-all")
	c.fs.StringVar(&catchUp, "catch-up", "latest", "`policy` for fire times missed during an outage: none, latest or all")
	c.fs.DurationVar(&o.CatchUpWindow, "catch-up-window", schedules.DefaultCatchUpWindow, "how old a fire time may be and still run (`duration`)")
	c.fs.DurationVar(&o.WorkflowExecutionTimeout, "execution-timeout", 0, "execution timeout of every run (`duration`, 0 = none)")
	c.fs.BoolVar(&o.Paused, "paused", false, "create it paused")
	c.fs.StringVar(&o.Note, "note", "", "free `text` shown by describe")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	for flag, v := range map[string]string{"--id": o.ID, "--spec": o.Spec, "--type": typ} {
		if v == "" {
			return usageErrorf(c.name, "%s is required", flag)
		}
	}
	var err error
	if o.Overlap, err = schedules.ParseOverlapPolicy(overlap); err != nil {
		return usageErrorf(c.name, "--overlap %q: want skip, buffer-one or allow-all", overlap)
	}
	if o.CatchUp, err = schedules.ParseCatchUpPolicy(catchUp); err != nil {
		return usageErrorf(c.name, "--catch-up %q: want none, latest or all", catchUp)
	}
	if input != "" {
		if !json.Valid([]byte(input)) {
			return &cliError{err: client.ErrInvalidInput, msg: "invalid workflow input: --input is not valid JSON"}
		}
		o.Input = json.RawMessage(input)
	}
	o.Workflow = typ
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, closeConn, err := g.dial(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	s, err := cl.CreateSchedule(opCtx, o)
	if err != nil {
		return g.scheduleError(err, o.ID)
	}
	fmt.Fprintf(stdout, "Created schedule %q (%s, workflow %s on task queue %s, namespace %s)\n",
		s.ID, specText(s), s.Action.WorkflowType, s.Action.TaskQueue, g.namespace)
	if next := s.NextFire(time.Now()); !next.IsZero() {
		fmt.Fprintf(stdout, "Next fire: %s\n", relTime(next, time.Now()))
	} else if s.Paused {
		fmt.Fprintln(stdout, "Paused: it fires after 'cairn schedule unpause'.")
	}
	return nil
}

func specText(s *client.ScheduleDescription) string {
	if s.TimeZone != "" {
		return s.Spec + " " + s.TimeZone
	}
	return s.Spec
}

const scheduleListUsage = `Usage:
  cairn schedule list [--json]

Lists the schedules of the namespace, sorted by id.
`

func schedList(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn schedule list", scheduleListUsage, stdout)
	g.register(c.fs)
	asJSON := c.fs.Bool("json", false, "print the schedules as JSON")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, closeConn, err := g.dial(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	all, err := cl.ListSchedules(opCtx)
	if err != nil {
		return err
	}
	if *asJSON {
		if all == nil {
			all = []*client.ScheduleDescription{}
		}
		return writeJSON(stdout, all)
	}
	if len(all) == 0 {
		fmt.Fprintf(stdout, "No schedules in namespace %q.\n", g.namespace)
		return nil
	}
	now := time.Now()
	tw := newTable(stdout)
	fmt.Fprintln(tw, "ID\tSPEC\tWORKFLOW\tOVERLAP\tSTATE\tNEXT FIRE\tSTARTS\tSKIPS\tMISSED")
	for _, s := range all {
		state := "active"
		if s.Paused {
			state = "paused"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", cell(s.ID), cell(specText(s)), cell(s.Action.WorkflowType),
			s.Overlap, state, shortTime(s.NextFire(now), now), s.State.Starts, s.State.Skips, s.State.Missed)
	}
	return tw.Flush()
}

const scheduleDescribeUsage = `Usage:
  cairn schedule describe --id ID [--json]

Shows a schedule: spec, action, policies, next fire, the running start, a
buffered start, counters and the latest outcomes.
`

func schedDescribe(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	var asJSON *bool
	return onSchedule(ctx, g, args, stdout, "describe", scheduleDescribeUsage,
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print the schedule as JSON") },
		func(ctx context.Context, cl *client.Client, id string) error {
			s, err := cl.DescribeSchedule(ctx, id)
			if err != nil {
				return err
			}
			s.Action.Input = g.codec.reveal(s.Action.Input, !*asJSON)
			s.Action.Memo = g.codec.reveal(s.Action.Memo, !*asJSON)
			return printSchedule(stdout, s, *asJSON)
		})
}

// printSchedule renders a described schedule.
func printSchedule(stdout io.Writer, s *client.ScheduleDescription, asJSON bool) error {
	if asJSON {
		return writeJSON(stdout, s)
	}
	now := time.Now()
	tw := newTable(stdout)
	state := "active"
	if s.Paused {
		state = "paused"
	}
	fmt.Fprintf(tw, "Schedule ID:\t%s\n", s.ID)
	fmt.Fprintf(tw, "Spec:\t%s\n", specText(s))
	fmt.Fprintf(tw, "State:\t%s\n", state)
	if s.Note != "" {
		fmt.Fprintf(tw, "Note:\t%s\n", oneLine(s.Note))
	}
	fmt.Fprintf(tw, "Workflow:\t%s on task queue %s, ids %s<fire time>\n", s.Action.WorkflowType, s.Action.TaskQueue, s.Action.WorkflowIDPrefix)
	fmt.Fprintf(tw, "Input:\t%s\n", compactJSON(s.Action.Input, 200))
	fmt.Fprintf(tw, "Overlap:\t%s\n", s.Overlap)
	fmt.Fprintf(tw, "Catch-up:\t%s (window %s)\n", s.CatchUp, s.Window())
	fmt.Fprintf(tw, "Created:\t%s\n", relTime(s.Created, now))
	fmt.Fprintf(tw, "Last fire:\t%s\n", relTime(s.State.LastFire, now))
	fmt.Fprintf(tw, "Next fire:\t%s\n", relTime(s.NextFire(now), now))
	if s.State.Running != "" {
		fmt.Fprintf(tw, "Latest start:\t%s\n", s.State.Running)
	}
	if s.State.Buffered != nil {
		fmt.Fprintf(tw, "Buffered:\t%s\n", shortTime(*s.State.Buffered, now))
	}
	fmt.Fprintf(tw, "Counters:\t%d started, %d skipped, %d missed\n", s.State.Starts, s.State.Skips, s.State.Missed)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.State.Recent) == 0 {
		return nil
	}
	fmt.Fprintln(stdout, "\nRecent fires:")
	tw = newTable(stdout)
	fmt.Fprintln(tw, "  FIRE TIME\tOUTCOME\tWORKFLOW ID")
	for i := len(s.State.Recent) - 1; i >= 0; i-- {
		o := s.State.Recent[i]
		result := o.Result
		if o.Manual {
			result += " (manual)"
		}
		wid := o.WorkflowID
		if wid == "" {
			wid = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", shortTime(o.Fire, now), result, cell(wid))
	}
	return tw.Flush()
}

const schedulePauseUsage = `Usage:
  cairn schedule pause|unpause --id ID [--note TEXT]

Pause stops a schedule from firing; unpause lets it fire again. Fire times
that pass while it is paused are not caught up.
`

func schedPause(ctx context.Context, g globalFlags, args []string, stdout io.Writer, pause bool) error {
	verb := "unpause"
	if pause {
		verb = "pause"
	}
	var note *string
	return onSchedule(ctx, g, args, stdout, verb, schedulePauseUsage,
		func(fs *flag.FlagSet) { note = fs.String("note", "", "free `text` shown by describe") },
		func(ctx context.Context, cl *client.Client, id string) error {
			var err error
			if pause {
				err = cl.PauseSchedule(ctx, id, *note)
			} else {
				err = cl.UnpauseSchedule(ctx, id, *note)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Schedule %q %sd.\n", id, verb)
			return nil
		})
}

const scheduleIDUsage = `Usage:
  cairn schedule %s --id ID

%s
`

func schedTrigger(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	return onSchedule(ctx, g, args, stdout, "trigger",
		fmt.Sprintf(scheduleIDUsage, "trigger", "Fires a schedule now, also while it is paused; the overlap policy applies."), nil,
		func(ctx context.Context, cl *client.Client, id string) error {
			wid, err := cl.TriggerSchedule(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Triggered schedule %q; unless the overlap policy skips it, the run is %q.\n", id, wid)
			return nil
		})
}

func schedDelete(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	return onSchedule(ctx, g, args, stdout, "delete",
		fmt.Sprintf(scheduleIDUsage, "delete", "Deletes a schedule. Runs it started are not affected."), nil,
		func(ctx context.Context, cl *client.Client, id string) error {
			if err := cl.DeleteSchedule(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Deleted schedule %q.\n", id)
			return nil
		})
}

// onSchedule is onID for schedules, with their errors.
func onSchedule(ctx context.Context, g globalFlags, args []string, stdout io.Writer, verb, usage string,
	flags func(fs *flag.FlagSet), fn func(context.Context, *client.Client, string) error) error {
	return onID(ctx, g, args, stdout, "cairn schedule "+verb, usage, "schedule", flags,
		func(ctx context.Context, cl *client.Client, id string) error {
			return g.scheduleError(fn(ctx, cl, id), id)
		})
}

// startScheduler runs a scheduler runner for namespace ns on nc until the
// returned stop is called, so that 'cairn dev' and 'cairn server' fire
// schedules without a worker.
func startScheduler(ctx context.Context, nc *nats.Conn, ns string, log *slog.Logger) (stop func(), err error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	r := schedules.NewRunner(nc, js, streams.NewNames(ns), schedules.WithLogger(log))
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	select {
	case <-r.Ready():
	case err := <-done:
		cancel()
		return nil, fmt.Errorf("scheduler: %w", err)
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
	return func() {
		cancel()
		<-done
	}, nil
}
