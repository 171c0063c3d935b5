package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/cairnhq/cairn/sdk/client"
)

const callbackUsage = `Usage:
  cairn callback [--server URL] [--namespace NS] succeed TOKEN [--output JSON]
  cairn callback [--server URL] [--namespace NS] fail TOKEN [--error-type TYPE] [--message TEXT]
  cairn callback [--server URL] [--namespace NS] heartbeat TOKEN

Completes (or keeps alive) the callback of a workflow waiting in
workflow.WaitForCallback, given the token the workflow handed out. The
first succeed or fail of a token decides it; repeating that same command
succeeds again, and any other decision is rejected and changes nothing, as
is a token whose wait is over (timed out, or its workflow closed).
`

func cmdCallback(ctx context.Context, args []string, stdout io.Writer) error {
	g := defaultGlobals()
	c := newCommand("cairn callback", callbackUsage, stdout)
	g.register(c.fs)
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printUsage(stdout)
			return err
		}
		return &usageError{cmd: c.name, msg: err.Error()}
	}
	if c.fs.NArg() < 2 {
		return usageErrorf(c.name, "want succeed, fail or heartbeat and a TOKEN")
	}
	verb, token, rest := c.fs.Arg(0), c.fs.Arg(1), c.fs.Args()[2:]
	sub := newCommand("cairn callback "+verb, callbackUsage, stdout)
	g.register(sub.fs)
	output := sub.fs.String("output", "null", "result as `JSON` (succeed)")
	errType := sub.fs.String("error-type", "CallbackFailed", "failure `type` (fail)")
	message := sub.fs.String("message", "", "failure `text` (fail)")
	if err := sub.parse(rest); err != nil {
		return err
	}
	if err := g.check(sub.name); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, closeConn, err := g.dial(ctx)
	if err != nil {
		return err
	}
	defer closeConn()
	switch verb {
	case "succeed":
		// Through the converter: with --key-file the result is encrypted.
		err = cl.CompleteCallback(ctx, token, json.RawMessage(*output))
	case "fail":
		err = cl.FailCallback(ctx, token, *errType, *message)
	case "heartbeat":
		err = cl.HeartbeatCallback(ctx, token)
	default:
		return usageErrorf(c.name, "unknown command %q: want succeed, fail or heartbeat", verb)
	}
	switch {
	case errors.Is(err, client.ErrInvalidToken):
		return &cliError{err: err, msg: "not a callback token"}
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "Callback %s.\n", map[string]string{"succeed": "completed", "fail": "failed", "heartbeat": "heartbeat sent"}[verb])
	return nil
}
