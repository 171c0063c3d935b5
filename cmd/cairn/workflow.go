package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/streams"
)

// Defaults of the global flags of the workflow commands.
const (
	defaultServer    = "nats://127.0.0.1:4222"
	defaultNamespace = "default"
	envServer        = "CAIRN_SERVER"
	// envNATSURL is the NATS tools' variable, used when CAIRN_SERVER is
	// not set.
	envNATSURL   = streams.EnvURL
	envNamespace = "CAIRN_NAMESPACE"
	envRole      = "CAIRN_ROLE"
	// opTimeout bounds every command that does not wait for a run.
	opTimeout = 30 * time.Second
	// defaultListLimit caps list output unless --limit says otherwise.
	defaultListLimit = 100
)

const workflowUsage = `Usage:
  cairn workflow [--server URL] [--namespace NS] <command> [flags]

Commands:
  start       start a workflow
  describe    show the state of a run: status, pending activities and timers
  history     print the events of a run (--json exports them)
  result      wait for a run to close and print its result
  signal      send a signal to a running workflow
  query       ask a workflow's query handler, running or closed (read-only)
  cancel      ask a running workflow to cancel
  terminate   close a running workflow at once, without running its code
  list        list workflows, newest first, filtered by status, times and search attributes
  purge       delete a closed workflow's history and summary now
  pause       stop a running workflow's code until resumed
  resume      resume a paused workflow
  reset       start a new run from a prefix of a run's history
  redrive     continue a failed run from the step that failed

Run 'cairn workflow <command> -h' for the flags of a command.
`

// globalFlags select the server and namespace of every workflow command.
// They are accepted before and after the command name.
type globalFlags struct {
	server    string
	namespace string
	// auth is how the command authenticates to NATS (registerAuth), and
	// role the cairn role its credentials hold ("" if none is said).
	auth streams.Auth
	role string
	// progress: waiting commands show the events a run records (result's
	// --progress).
	progress bool
	// codec holds --key-file (registerCodec, codec.go).
	codec *codecFlags
}

func defaultGlobals() globalFlags {
	g := globalFlags{server: defaultServer, namespace: defaultNamespace}
	if v := os.Getenv(envServer); v != "" {
		g.server = v
	} else if v := os.Getenv(envNATSURL); v != "" {
		g.server = v
	}
	if v := os.Getenv(envNamespace); v != "" {
		g.namespace = v
	}
	return g
}

func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.server, "server", g.server, serverFlagUsage)
	fs.StringVar(&g.namespace, "namespace", g.namespace, "cairn `namespace` (env "+envNamespace+")")
	g.registerAuth(fs)
	g.registerCodec(fs)
}

// registerAuth adds the NATS authentication and TLS flags. Their
// environment variables are read after parsing (check), not as flag
// defaults: a default is printed by -h, and these may be secrets.
func (g *globalFlags) registerAuth(fs *flag.FlagSet) {
	a := &g.auth
	fs.StringVar(&a.Creds, "creds", "", "NATS user credentials `file` (env "+streams.EnvCreds+")")
	fs.StringVar(&a.NKey, "nkey", "", "NATS NKey user seed `file` (env "+streams.EnvNKey+")")
	fs.StringVar(&a.User, "user", "", "NATS user `name` (env "+streams.EnvUser+")")
	fs.StringVar(&a.Password, "password", "", "NATS `password` of --user (env "+streams.EnvPassword+")")
	fs.StringVar(&a.Token, "token", "", "NATS authentication `token` (env "+streams.EnvToken+")")
	fs.StringVar(&a.CA, "tls-ca", "", "PEM `file` of the CAs that sign the NATS server's certificate (env "+streams.EnvCA+")")
	fs.StringVar(&a.Cert, "tls-cert", "", "client certificate PEM `file`, for mutual TLS (env "+streams.EnvCert+")")
	fs.StringVar(&a.Key, "tls-key", "", "key PEM `file` of --tls-cert (env "+streams.EnvKey+")")
	fs.StringVar(&g.role, "role", "", "the cairn `role` the credentials hold (admin, engine, ingress, client, activity): sets its inbox prefix, "+
		"and a client or ingress hands starts, terminates and resets to the engine (env "+envRole+")")
	fs.StringVar(&a.InboxPrefix, "inbox-prefix", "", "`prefix` of the connection's reply subjects: a cairn role's own, see 'cairn auth permissions' (env "+streams.EnvInboxPrefix+")")
}

// withEnv fills what the flags left empty from the environment: the way
// to authenticate only when the flags gave none (a flag overrides the
// environment, which may hold another way), the TLS files one by one.
func withEnv(flags, env streams.Auth) streams.Auth {
	a := flags
	if a.Creds == "" && a.NKey == "" && a.User == "" && a.Password == "" && a.Token == "" {
		a.Creds, a.NKey, a.User, a.Password, a.Token = env.Creds, env.NKey, env.User, env.Password, env.Token
	}
	if a.CA == "" {
		a.CA = env.CA
	}
	if a.Cert == "" && a.Key == "" {
		a.Cert, a.Key = env.Cert, env.Key
	}
	if a.InboxPrefix == "" {
		a.InboxPrefix = env.InboxPrefix
	}
	return a
}

// connect dials the command's NATS server with its authentication
// settings (checked by check); name is the connection's name on the
// server.
func (g *globalFlags) connect(name string) (*nats.Conn, error) {
	opts, err := g.auth.Options()
	if err != nil {
		return nil, err
	}
	return streams.Connect(g.server, append(opts, nats.Name(name))...)
}

// serverFlagUsage describes --server (and cairn server's --nats).
const serverFlagUsage = "NATS server `URL`, or a comma-separated list of a cluster's URLs (env " + envServer + " or " + envNATSURL + ")"

func (g *globalFlags) check(cmd string) error {
	if strings.Trim(g.server, ", \t") == "" {
		return usageErrorf(cmd, "--server must not be empty")
	}
	if err := streams.ValidateNamespace(g.namespace); err != nil {
		return usageErrorf(cmd, "--namespace %q: must match [A-Za-z0-9_-]{1,64}", g.namespace)
	}
	g.auth = withEnv(g.auth, streams.AuthFromEnv())
	if g.role == "" {
		g.role = os.Getenv(envRole)
	}
	if g.role != "" {
		if !slices.Contains(streams.Roles, streams.Role(g.role)) {
			return usageErrorf(cmd, "--role %q: want one of %v", g.role, streams.Roles)
		}
		if g.auth.InboxPrefix == "" {
			g.auth.InboxPrefix = streams.RoleInboxPrefix(streams.Role(g.role), g.namespace)
		}
	}
	if _, err := g.auth.Options(); err != nil {
		return usageErrorf(cmd, "%v", err)
	}
	return nil
}

// withoutHistoryWrites tells whether the command's role may not write
// history, so its client hands starts, terminates and resets to the
// engine (client.WithoutHistoryWrites).
func (g *globalFlags) withoutHistoryWrites() bool {
	return g.role == string(streams.RoleClient) || g.role == string(streams.RoleIngress)
}

// clientOptions are the client options the command's flags ask for.
func (g *globalFlags) clientOptions() []client.Option {
	var opts []client.Option
	if g.withoutHistoryWrites() {
		opts = append(opts, client.WithoutHistoryWrites())
	}
	return opts
}

// dial connects to the server and opens a client on the namespace. The CLI
// never provisions: creating streams with default settings could fight an
// operator's configuration, and a missing namespace is better reported.
func (g *globalFlags) dial(ctx context.Context) (*client.Client, func(), error) {
	dcOpt, err := g.clientOption()
	if err != nil {
		return nil, nil, err
	}
	nc, err := g.connect("cairn-cli")
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) {
			return nil, nil, &cliError{err: err, msg: fmt.Sprintf(
				"cannot reach a NATS server at %s (is 'cairn dev' running? set --server or %s)", g.server, envServer)}
		}
		return nil, nil, &cliError{err: err, msg: fmt.Sprintf("connect to %s: %v", g.server, errors.Unwrap(err))}
	}
	cl, err := client.New(ctx, nc, append([]client.Option{client.WithNamespace(g.namespace), client.WithoutProvisioning(), dcOpt},
		g.clientOptions()...)...)
	if err != nil {
		nc.Close()
		switch {
		case errors.Is(err, jetstream.ErrBucketNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
			return nil, nil, &cliError{err: err, msg: fmt.Sprintf(
				"namespace %q does not exist on %s: no worker or 'cairn dev' has provisioned it", g.namespace, g.server)}
		case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
			return nil, nil, &cliError{err: err, msg: fmt.Sprintf("JetStream is not enabled on %s", g.server)}
		}
		return nil, nil, fmt.Errorf("open namespace %q on %s: %w", g.namespace, g.server, err)
	}
	return cl, nc.Close, nil
}

// notFound rewrites the client's not-found error into a sentence that names
// the namespace.
func (g *globalFlags) notFound(err error, id, run string) error {
	if !errors.Is(err, client.ErrNotFound) {
		return err
	}
	what := fmt.Sprintf("workflow %q", id)
	if run != "" {
		what = fmt.Sprintf("run %s of workflow %q", run, id)
	}
	return &cliError{err: err, msg: fmt.Sprintf("%s not found in namespace %q", what, g.namespace)}
}

func cmdWorkflow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := defaultGlobals()
	grp, err := parseGroup("cairn workflow", workflowUsage, &g, args, stdout, "missing command: start, describe, history, result, signal, query, cancel, terminate, list or purge")
	if err != nil {
		return err
	}
	sub, rest := grp.fs.Arg(0), grp.fs.Args()[1:]
	switch sub {
	case "start":
		return wfStart(ctx, g, rest, stdout, stderr)
	case "describe":
		return wfDescribe(ctx, g, rest, stdout)
	case "history":
		return wfHistory(ctx, g, rest, stdout)
	case "result":
		return wfResult(ctx, g, rest, stdout, stderr)
	case "signal":
		return wfSignal(ctx, g, rest, stdout)
	case "query":
		return wfQuery(ctx, g, rest, stdout)
	case "cancel":
		return wfCancel(ctx, g, rest, stdout)
	case "terminate":
		return wfTerminate(ctx, g, rest, stdout)
	case "list":
		return wfListQuery(ctx, g, rest, stdout)
	case "purge":
		return wfPurge(ctx, g, rest, stdout)
	case "pause", "resume":
		return wfPause(ctx, g, rest, stdout, sub == "resume")
	case "reset", "redrive":
		return wfReset(ctx, g, rest, stdout, sub == "redrive")
	case "help":
		grp.printUsage(stdout)
		return nil
	}
	return usageErrorf(grp.name, "unknown command %q", sub)
}

// --- start -----------------------------------------------------------------

const startUsage = `Usage:
  cairn workflow start --type TYPE [--id ID] [--queue QUEUE] [--input JSON | --input-file FILE]
                       [--reuse allow|failed-only|reject] [--execution-timeout D] [--wait [--timeout D]]

Starts a run of workflow type TYPE on a task queue. Starting an id that is
already running starts nothing and reports the running run. The type must
have been registered by a worker on the queue at least once.
`

func parseReuse(s string) (client.StartOptions, bool) {
	var o client.StartOptions
	p, err := client.ParseWorkflowIDReusePolicy(s)
	if err != nil {
		return o, false
	}
	o.WorkflowIDReusePolicy = p
	return o, true
}

func wfStart(ctx context.Context, g globalFlags, args []string, stdout, stderr io.Writer) error {
	c := newCommand("cairn workflow start", startUsage, stdout)
	g.register(c.fs)
	typ := c.fs.String("type", "", "workflow `type` to start (required)")
	id := c.fs.String("id", "", "workflow `id` (default: a generated one)")
	queue := c.fs.String("queue", "default", "task `queue` of the workers that run it")
	input := c.fs.String("input", "", "workflow input as `JSON` (default null)")
	inputFile := c.fs.String("input-file", "", "read the input JSON from `file` (- for stdin)")
	reuse := c.fs.String("reuse", "allow", "reuse `policy` for an id whose last run is closed: allow, failed-only or reject")
	wait := c.fs.Bool("wait", false, "wait for the run to close and print its result")
	timeout := c.fs.Duration("timeout", 0, "with --wait: give up waiting after this `duration` (0 = no limit)")
	execTimeout := c.fs.Duration("execution-timeout", 0, "close the run as timed_out if it runs longer than this `duration` (0 = no limit)")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	if *typ == "" {
		return usageErrorf(c.name, "--type is required")
	}
	if *input != "" && *inputFile != "" {
		return usageErrorf(c.name, "--input and --input-file are mutually exclusive")
	}
	opts, ok := parseReuse(*reuse)
	if !ok {
		return usageErrorf(c.name, "--reuse %q: want allow, failed-only or reject", *reuse)
	}
	if *timeout < 0 {
		return usageErrorf(c.name, "--timeout must not be negative")
	}
	if *timeout > 0 && !*wait {
		return usageErrorf(c.name, "--timeout only applies with --wait")
	}
	if *execTimeout < 0 {
		return usageErrorf(c.name, "--execution-timeout must not be negative")
	}
	opts.ID, opts.TaskQueue, opts.WorkflowExecutionTimeout = *id, *queue, *execTimeout

	raw := []byte(*input)
	if *inputFile != "" {
		var err error
		if *inputFile == "-" {
			raw, err = io.ReadAll(os.Stdin)
		} else {
			raw, err = os.ReadFile(*inputFile)
		}
		if err != nil {
			return fmt.Errorf("read --input-file: %w", err)
		}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		return &cliError{err: client.ErrInvalidInput, msg: fmt.Sprintf("invalid workflow input: not valid JSON: %v", err)}
	}

	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, closeConn, err := g.dial(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	// Start, not StartRaw: the input goes through the converter, which
	// encrypts it under --key-file.
	run, err := cl.Start(opCtx, opts, *typ, json.RawMessage(raw))
	if err != nil {
		return err
	}
	if run.Created {
		fmt.Fprintf(stdout, "Started workflow %q (type %s, task queue %s, namespace %s)\n", run.ID, *typ, opts.TaskQueue, g.namespace)
	} else {
		fmt.Fprintf(stdout, "Workflow %q is already running; nothing was started.\n", run.ID)
	}
	fmt.Fprintf(stdout, "Run: %s\n", run.Run)
	if !*wait {
		return nil
	}
	return waitResult(ctx, cl, &g, run.ID, run.Run, *timeout, stdout, stderr)
}

// --- result ----------------------------------------------------------------

const resultUsage = `Usage:
  cairn workflow result --id ID [--run RUN] [--timeout D] [--progress]

Waits until the run (by default the current run of the id) closes and prints
its result as JSON. A run that failed, was canceled, was terminated or timed
out prints the error to stderr and exits with status 1. While it waits, the
events the run records are shown on stderr as they come (--progress, on by
default when stderr is a terminal).
`

func wfResult(ctx context.Context, g globalFlags, args []string, stdout, stderr io.Writer) error {
	c := newCommand("cairn workflow result", resultUsage, stdout)
	g.register(c.fs)
	id := c.fs.String("id", "", "workflow `id` (required)")
	runID := c.fs.String("run", "", "`run` id (default: the current run)")
	timeout := c.fs.Duration("timeout", 0, "give up waiting after this `duration` (0 = no limit)")
	c.fs.BoolVar(&g.progress, "progress", isTerminal(stderr), "show the events the run records on stderr while waiting (default: on a terminal)")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	if *id == "" {
		return usageErrorf(c.name, "--id is required")
	}
	if *timeout < 0 {
		return usageErrorf(c.name, "--timeout must not be negative")
	}
	dialCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, closeConn, err := g.dial(dialCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	return waitResult(ctx, cl, &g, *id, *runID, *timeout, stdout, stderr)
}

// waitResult waits for a run and prints its result. Before waiting it says
// on stderr why a running run may not progress (parked, no worker).
func waitResult(ctx context.Context, cl *client.Client, g *globalFlags, id, run string, timeout time.Duration,
	stdout, stderr io.Writer) error {
	dctx, dcancel := context.WithTimeout(ctx, opTimeout)
	d, err := cl.Describe(dctx, id, run)
	dcancel()
	if err != nil {
		return g.notFound(err, id, run)
	}
	if d.Status == history.StatusRunning {
		switch {
		case d.Parked != nil:
			fmt.Fprintf(stderr, "warning: the run is parked and makes no progress until its code is fixed: %s\n", oneLine(d.Parked.Error()))
		case d.Waiting != "":
			fmt.Fprintf(stderr, "note: %s\n", d.Waiting)
		}
	}
	wctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if g.progress && d.Status == history.StatusRunning {
		defer showProgress(wctx, cl, g, id, d.Run, d.HistoryLength, stderr)()
	}
	var result json.RawMessage
	noted := false
	for {
		err = cl.Result(wctx, id, d.Run, &result)
		if err == nil || wctx.Err() != nil || !transient(err) {
			break
		}
		// Requests made while the connection reconnects are buffered, but
		// one can still fail around a server restart (no responders before
		// JetStream is up); the connection recovers, so keep waiting.
		if !noted {
			fmt.Fprintf(stderr, "note: lost the server (%s); still waiting\n", oneLine(err.Error()))
			noted = true
		}
		select {
		case <-wctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return &cliError{err: err, msg: fmt.Sprintf("interrupted while waiting for workflow %q; it keeps running", id)}
	case wctx.Err() != nil:
		return &cliError{err: err, msg: fmt.Sprintf("timed out after %v waiting for workflow %q (run %s); it is still running", timeout, id, d.Run)}
	default:
		return g.notFound(err, id, run)
	}
	g.codec.noteEncrypted(stderr, result)
	fmt.Fprintln(stdout, indentJSON(result))
	return nil
}

// transient reports whether err is a failure to reach the server that a
// reconnect cures.
func transient(err error) bool {
	return errors.Is(err, streams.ErrDirectGetUnavailable) ||
		errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, context.DeadlineExceeded) // a request's own timeout; the wait's is checked first
}

// indentJSON pretty-prints a payload; an empty payload is null.
func indentJSON(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "null"
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// compactJSON renders a payload on one line, cut to max bytes.
func compactJSON(raw json.RawMessage, max int) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "null"
	}
	var buf bytes.Buffer
	s := string(raw)
	if json.Compact(&buf, raw) == nil {
		s = buf.String()
	}
	return truncate(s, max)
}

func truncate(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	// Cut on a rune boundary.
	cut := max - 3
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// --- cancel, terminate -----------------------------------------------------

const cancelUsage = `Usage:
  cairn workflow cancel --id ID [--run RUN] [--reason TEXT]

Asks a running workflow to cancel: its context is canceled and the workflow
decides how to finish (for example by compensating). Use 'cairn workflow
result' to wait for it to close.
`

const terminateUsage = `Usage:
  cairn workflow terminate --id ID [--run RUN] [--reason TEXT]

Closes a running workflow at once, without running any more of its code:
no clean-up or compensation runs. Prefer cancel where possible.
`

func wfCancel(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	return closeCmd(ctx, g, args, stdout, "cancel", cancelUsage)
}

func wfTerminate(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	return closeCmd(ctx, g, args, stdout, "terminate", terminateUsage)
}

func closeCmd(ctx context.Context, g globalFlags, args []string, stdout io.Writer, verb, usage string) error {
	var reason *string
	return onRun(ctx, g, args, stdout, verb, usage, "only if this is the current `run`",
		func(fs *flag.FlagSet) { reason = fs.String("reason", "", "reason `text`, recorded in history") },
		func(ctx context.Context, cl *client.Client, id, run string) error {
			if verb == "cancel" {
				if err := cl.Cancel(ctx, id, run, *reason); err != nil {
					return g.notFound(err, id, run)
				}
				fmt.Fprintf(stdout, "Requested cancellation of workflow %q.\n", id)
				return nil
			}
			if err := cl.Terminate(ctx, id, run, *reason); err != nil {
				return g.notFound(err, id, run)
			}
			fmt.Fprintf(stdout, "Terminated workflow %q.\n", id)
			return nil
		})
}

const signalUsage = `Usage:
  cairn workflow signal --id ID --name NAME [--input JSON] [--run RUN]

Sends the signal NAME to a running workflow, with the JSON payload given by
--input (default null). The workflow receives it with workflow.ReceiveSignal;
signals sent before it waits are buffered in order.
`

func wfSignal(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	var name, input *string
	return onRun(ctx, g, args, stdout, "signal", signalUsage, "only if this is the current `run`",
		func(fs *flag.FlagSet) {
			name = fs.String("name", "", "signal `name` (required)")
			input = fs.String("input", "null", "signal payload as `JSON`")
		},
		func(ctx context.Context, cl *client.Client, id, run string) error {
			if *name == "" {
				return usageErrorf("cairn workflow signal", "--name is required")
			}
			if err := cl.Signal(ctx, id, run, *name, json.RawMessage(*input)); err != nil {
				return g.notFound(err, id, run)
			}
			fmt.Fprintf(stdout, "Sent signal %q to workflow %q.\n", *name, id)
			return nil
		})
}

const queryUsage = `Usage:
  cairn workflow query --id ID --name NAME [--input JSON]

Asks a live worker to run the workflow's query handler NAME (registered with
workflow.SetQueryHandler) with the JSON arguments given by --input, against
the current run's state, and prints the answer. A closed run is answered
too: the worker replays its history. Nothing is written.
`

func wfQuery(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	var name, input *string
	return onRun(ctx, g, args, stdout, "query", queryUsage, "ignored: queries go to the current run",
		func(fs *flag.FlagSet) {
			name = fs.String("name", "", "query `name` (required)")
			input = fs.String("input", "null", "query arguments as `JSON`")
		},
		func(ctx context.Context, cl *client.Client, id, _ string) error {
			if *name == "" {
				return usageErrorf("cairn workflow query", "--name is required")
			}
			var out json.RawMessage
			if err := cl.Query(ctx, id, *name, json.RawMessage(*input), &out); err != nil {
				return g.notFound(err, id, "")
			}
			fmt.Fprintln(stdout, compactJSON(out, 1<<20))
			return nil
		})
}

// parseGroup parses the global flags of a command group (cairn workflow,
// trigger, event) and checks that a subcommand follows; missing names the
// subcommands for the error.
func parseGroup(name, usage string, g *globalFlags, args []string, stdout io.Writer, missing string) (*command, error) {
	grp := newCommand(name, usage, stdout)
	g.register(grp.fs)
	if err := grp.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			grp.printUsage(stdout)
			return nil, err
		}
		return nil, &usageError{cmd: grp.name, msg: err.Error()}
	}
	if grp.fs.NArg() == 0 {
		return nil, usageErrorf(grp.name, "%s", missing)
	}
	return grp, nil
}

// onRun is the frame of the commands that act on one run: onID with
// --run.
func onRun(ctx context.Context, g globalFlags, args []string, stdout io.Writer, verb, usage, runHelp string,
	flags func(fs *flag.FlagSet), fn func(ctx context.Context, cl *client.Client, id, run string) error) error {
	var runID *string
	return onID(ctx, g, args, stdout, "cairn workflow "+verb, usage, "workflow",
		func(fs *flag.FlagSet) {
			runID = fs.String("run", "", runHelp)
			flags(fs)
		},
		func(ctx context.Context, cl *client.Client, id string) error { return fn(ctx, cl, id, *runID) })
}

// onID is the frame of the commands that act on one object named by --id
// (a workflow, a schedule): it parses --id and the command's own flags
// (registered by flags), connects, and calls fn within opTimeout.
func onID(ctx context.Context, g globalFlags, args []string, stdout io.Writer, name, usage, what string,
	flags func(fs *flag.FlagSet), fn func(ctx context.Context, cl *client.Client, id string) error) error {
	c := newCommand(name, usage, stdout)
	g.register(c.fs)
	id := c.fs.String("id", "", what+" `id` (required)")
	if flags != nil {
		flags(c.fs)
	}
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	if *id == "" {
		return usageErrorf(c.name, "--id is required")
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cl, closeConn, err := g.dial(ctx)
	if err != nil {
		return err
	}
	defer closeConn()
	return fn(ctx, cl, *id)
}

// --- list ------------------------------------------------------------------

func parseStatus(s string) (history.Status, bool) {
	switch st := history.Status(s); st {
	case "", history.StatusRunning, history.StatusCompleted, history.StatusFailed,
		history.StatusCanceled, history.StatusTerminated, history.StatusTimedOut:
		return st, true
	}
	return "", false
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// cell keeps a user-supplied string from breaking a table row.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	return truncate(s, 60)
}

// --- describe, history -----------------------------------------------------

const describeUsage = `Usage:
  cairn workflow describe --id ID [--run RUN] [--json]

Shows the state of a run, computed from its history: status, times, result
or failure, pending activities (attempt, last failure, next attempt) and
pending timers. A run whose code broke determinism or panicked is shown as
PARKED with the error; a run no live worker serves says what it waits for.
`

func wfDescribe(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	var asJSON *bool
	return onRun(ctx, g, args, stdout, "describe", describeUsage, "`run` id (default: the current run)",
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print the description as JSON") },
		func(ctx context.Context, cl *client.Client, id, run string) error {
			d, err := cl.Describe(ctx, id, run)
			if err != nil {
				return g.notFound(err, id, run)
			}
			g.codec.revealDescription(d, !*asJSON)
			if *asJSON {
				return writeJSON(stdout, d)
			}
			return printDescription(stdout, d, time.Now())
		})
}

const historyUsage = `Usage:
  cairn workflow history --id ID [--run RUN] [--json]

Prints the events of a run, oldest first. With --json the events are
exported as an indented JSON array in the stored event format (seq, time,
type, attributes) plus "batch", the index of the workflow task that
committed each event: the form testenv.ReplayHistory replays.
`

func wfHistory(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	var asJSON *bool
	return onRun(ctx, g, args, stdout, "history", historyUsage, "`run` id (default: the current run)",
		func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "export the events as a JSON array") },
		func(ctx context.Context, cl *client.Client, id, run string) error {
			if *asJSON {
				batches, err := cl.HistoryBatches(ctx, id, run)
				if err != nil {
					return g.notFound(err, id, run)
				}
				return writeJSON(stdout, history.ExportEvents(batches))
			}
			events, err := cl.History(ctx, id, run)
			if err != nil {
				return g.notFound(err, id, run)
			}
			g.codec.revealEvents(events)
			return printHistory(stdout, events)
		})
}
