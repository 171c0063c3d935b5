package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
)

const deadLetterUsage = `Usage:
  cairn deadletter [--server URL] [--namespace NS] <command> [flags]

Commands:
  list    list the dead letters, oldest first
  purge   delete them

Dead letters are the messages cairn took off its work queues without
processing them, each with the reason: malformed tasks and inbox messages,
activity results and timer fires without their token, messages on subjects
no consumer reads (strays), tasks of a protocol version no worker took for
an hour. They are kept 30 days (at most 1 GiB).
`

func cmdDeadLetter(ctx context.Context, args []string, stdout io.Writer) error {
	g := defaultGlobals()
	grp, err := parseGroup("cairn deadletter", deadLetterUsage, &g, args, stdout, "missing command: list or purge")
	if err != nil {
		return err
	}
	sub, rest := grp.fs.Arg(0), grp.fs.Args()[1:]
	switch sub {
	case "list", "ls":
		return deadLetterList(ctx, g, rest, stdout)
	case "purge":
		return deadLetterPurge(ctx, g, rest, stdout)
	case "help":
		grp.printUsage(stdout)
		return nil
	}
	return usageErrorf(grp.name, "unknown command %q", sub)
}

// deadLetter is one dead letter as list shows it.
type deadLetter struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Source  string            `json:"source"`
	Subject string            `json:"subject"`
	Reason  string            `json:"reason"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// openDeadLetters connects and opens the namespace's dead-letter stream.
func (g *globalFlags) openDeadLetters(ctx context.Context) (jetstream.JetStream, jetstream.Stream, func(), error) {
	nc, err := g.connect("cairn-cli")
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) {
			return nil, nil, nil, &cliError{err: err, msg: fmt.Sprintf(
				"cannot reach a NATS server at %s (is 'cairn dev' running? set --server or %s)", g.server, envServer)}
		}
		return nil, nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, nil, err
	}
	s, err := js.Stream(ctx, streams.NewNames(g.namespace).DeadLetterStream())
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		nc.Close()
		return nil, nil, nil, &cliError{err: err, msg: fmt.Sprintf(
			"namespace %q on %s has no dead-letter stream: no worker or 'cairn dev' of this version has provisioned it", g.namespace, g.server)}
	}
	if err != nil {
		nc.Close()
		return nil, nil, nil, err
	}
	return js, s, nc.Close, nil
}

const deadLetterListUsage = `Usage:
  cairn deadletter list [--limit N] [--json]

Lists the dead letters, oldest first: when, the subject the message was
published to, and why cairn took it off its work queue.
`

func deadLetterList(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn deadletter list", deadLetterListUsage, stdout)
	g.register(c.fs)
	limit := c.fs.Int("limit", 100, "show at most `N` dead letters")
	asJSON := c.fs.Bool("json", false, "print JSON lines, with every header and the body")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	if *limit < 1 {
		return usageErrorf(c.name, "--limit %d: want at least 1", *limit)
	}
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, s, closeConn, err := g.openDeadLetters(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	letters, err := readDeadLetters(opCtx, s, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, d := range letters {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	if len(letters) == 0 {
		fmt.Fprintln(stdout, "No dead letters.")
		return nil
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "SEQ\tTIME\tSUBJECT\tREASON")
	for _, d := range letters {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", d.Seq, d.Time.Format(time.RFC3339), cell(d.Subject), cell(d.Reason))
	}
	return tw.Flush()
}

// readDeadLetters reads up to limit dead letters from the stream's start.
func readDeadLetters(ctx context.Context, s jetstream.Stream, limit int) ([]deadLetter, error) {
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out []deadLetter
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && len(out) < limit && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // expired or purged meanwhile
		}
		if err != nil {
			return nil, err
		}
		d := deadLetter{Seq: m.Sequence, Time: m.Time, Subject: m.Header.Get(streams.HeaderDeadSubject),
			Reason: m.Header.Get(streams.HeaderDeadReason), Source: m.Subject, Headers: map[string]string{}, Body: string(m.Data)}
		for k := range m.Header {
			d.Headers[k] = m.Header.Get(k)
		}
		out = append(out, d)
	}
	return out, nil
}

const deadLetterPurgeUsage = `Usage:
  cairn deadletter purge

Deletes every dead letter of the namespace and prints how many.
`

func deadLetterPurge(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn deadletter purge", deadLetterPurgeUsage, stdout)
	g.register(c.fs)
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, s, closeConn, err := g.openDeadLetters(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	info, err := s.Info(opCtx)
	if err != nil {
		return err
	}
	if err := s.Purge(opCtx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Purged %d dead letters.\n", info.State.Msgs)
	return nil
}
