// Command cairn runs a local development engine and inspects and controls
// workflows.
//
//	cairn dev                   embedded NATS + engine + demo worker
//	cairn workflow <command>    start, describe, history, result, cancel, terminate, list
//	cairn version               print the version
//
// Every command is a function that takes its arguments and output writers,
// so tests drive the CLI in-process (see run). docs/cli.md documents the
// commands and flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default behaviour so a second
		// Ctrl-C kills a shutdown that hangs.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const mainUsage = `cairn: durable functions for Go, event-sourced on NATS JetStream.

Usage:
  cairn <command> [flags]

Commands:
  dev        run an embedded NATS server, the engine and a demo worker
  workflow   start, inspect and control workflows (cairn workflow -h)
  trigger    add, list and remove CloudEvents triggers (cairn trigger -h)
  event      send a CloudEvent (cairn event send -h)
  server     serve CloudEvents (NATS and HTTP) on an existing NATS server
  callback   complete, fail or heartbeat a workflow's callback token
  deadletter list and purge the messages cairn took off its queues unprocessed
  auth       NATS permissions of cairn's roles, and NKey users for them
  schedule   create, list, pause and delete cron schedules (cairn schedule -h)
  version    print the version

Run 'cairn <command> -h' for the flags of a command.
`

// run executes the command line args (without the program name) and returns
// the process exit code. Regular output goes to stdout; errors, logs and
// usage text for bad invocations go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "dev":
		err = cmdDev(ctx, rest, stdout, stderr)
	case "workflow", "wf":
		err = cmdWorkflow(ctx, rest, stdout, stderr)
	case "trigger":
		err = cmdTrigger(ctx, rest, stdout, stderr)
	case "event":
		err = cmdEvent(ctx, rest, stdout, stderr)
	case "server":
		err = cmdServer(ctx, rest, stdout, stderr)
	case "schedule":
		err = cmdSchedule(ctx, rest, stdout, stderr)
	case "callback":
		err = cmdCallback(ctx, rest, stdout)
	case "deadletter":
		err = cmdDeadLetter(ctx, rest, stdout)
	case "auth":
		err = cmdAuth(rest, stdout)
	case "version":
		err = cmdVersion(rest, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	default:
		err = usageErrorf("cairn", "unknown command %q", cmd)
	}
	return report(err, stderr)
}

// report prints err (if any) to stderr and maps it to an exit code.
func report(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s: %s\n", ue.cmd, ue.msg)
		fmt.Fprintf(stderr, "Run '%s -h' for usage.\n", ue.cmd)
		return exitUsage
	}
	fmt.Fprintf(stderr, "cairn: %s\n", describeError(err))
	return exitError
}

// usageError is a malformed invocation: exit code 2.
type usageError struct {
	cmd string // e.g. "cairn workflow start"
	msg string
}

func (e *usageError) Error() string { return e.cmd + ": " + e.msg }

func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// command is the flag set of one command. Help goes to stdout (exit 0);
// parse errors become usage errors (exit 2).
type command struct {
	name  string // full name, e.g. "cairn workflow start"
	usage string // synopsis and description, printed above the flags
	fs    *flag.FlagSet
	out   io.Writer
}

func newCommand(name, usage string, stdout io.Writer) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &command{name: name, usage: usage, fs: fs, out: stdout}
}

// parse parses args and rejects positional arguments, which no command
// takes.
func (c *command) parse(args []string) error {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printUsage(c.out)
			return flag.ErrHelp
		}
		return &usageError{cmd: c.name, msg: err.Error()}
	}
	if c.fs.NArg() > 0 {
		return usageErrorf(c.name, "unexpected argument %q (all parameters are flags, e.g. --id)", c.fs.Arg(0))
	}
	return nil
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func (c *command) printUsage(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(c.usage, "\n"))
	fmt.Fprintln(w, "\nFlags:")
	c.fs.SetOutput(w)
	c.fs.PrintDefaults()
	c.fs.SetOutput(io.Discard)
}
