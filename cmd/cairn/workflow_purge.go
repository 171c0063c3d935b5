package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cairnhq/cairn/sdk/client"
)

const purgeUsage = `Usage:
  cairn workflow purge ID [--run RUN]
  cairn workflow purge --id ID [--run RUN]

Deletes a closed workflow now, without waiting for its retention period:
its history (every run of the id), its summary and any schedule it left.
A running workflow is refused. With --run, RUN must be the id's latest run,
so a run started since you looked is never deleted.
`

func wfPurge(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		// cairn workflow purge ID: the id may come first.
		args = append([]string{"--id", args[0]}, args[1:]...)
	}
	return onRun(ctx, g, args, stdout, "purge", purgeUsage, "`run` that must be the latest (default: whatever is latest)",
		func(*flag.FlagSet) {},
		func(ctx context.Context, cl *client.Client, id, run string) error {
			err := cl.Purge(ctx, id, run)
			switch {
			case errors.Is(err, client.ErrStillRunning):
				return &cliError{err: err, msg: fmt.Sprintf("workflow %q is still running: cancel or terminate it first", id)}
			case errors.Is(err, client.ErrNewerRun):
				return &cliError{err: err, msg: err.Error()}
			case err != nil:
				return g.notFound(err, id, "")
			}
			fmt.Fprintf(stdout, "Purged workflow %q.\n", id)
			return nil
		})
}
