package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/metric"

	"github.com/cairnhq/cairn/bindings"
	"github.com/cairnhq/cairn/cloudevents"
	"github.com/cairnhq/cairn/internal/httpapi"
	"github.com/cairnhq/cairn/internal/webui"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/streams"
)

// defaultHTTPPort is the port of the CloudEvents HTTP endpoint of cairn dev
// and cairn server.
const defaultHTTPPort = 4280

// --- shared: the events service of cairn dev and cairn server ----------------

// eventsService is the CloudEvents ingress (NATS and HTTP) and the service
// bindings of a config file, running until stop is called.
type eventsService struct {
	httpURL string // empty without HTTP
	// apiURL is the management API's base URL (httpapi), on the same
	// listener.
	apiURL string
	stop   func()
}

// startEvents loads the triggers file (if any) into the triggers bucket and
// starts the ingress on NATS, the HTTP endpoint on httpAddr (empty: none;
// protected as edge says) and the runners of the file's service bindings.
// dc, if not nil, encodes the payloads the ingress and the bindings write
// (see codec.go).
func startEvents(ctx context.Context, nc *nats.Conn, ns, httpAddr, triggersFile string, edge httpEdge, mp metric.MeterProvider,
	log *slog.Logger, dc converter.DataConverter, clientOpts ...client.Option) (*eventsService, error) {
	var cfg *cloudevents.Config
	if triggersFile != "" {
		var err error
		if cfg, err = cloudevents.LoadConfig(triggersFile); err != nil {
			return nil, &cliError{err: err, msg: fmt.Sprintf("--triggers: %v", err)}
		}
	}
	cl, err := client.New(ctx, nc, append(withConverter([]client.Option{client.WithNamespace(ns), client.WithLogger(log)},
		dc, client.WithDataConverter), clientOpts...)...)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		// Store the file's triggers before the ingress starts, so its first
		// snapshot has them: an event arriving right after startup must
		// not be rejected for want of a trigger that is being loaded.
		js, err := jetstream.New(nc)
		if err != nil {
			return nil, err
		}
		store, err := cloudevents.OpenStore(ctx, js, ns)
		if err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		if err := store.Apply(ctx, cfg); err != nil {
			return nil, err
		}
		log.Info("triggers loaded", "file", triggersFile, "triggers", len(cfg.Triggers), "services", len(cfg.Services))
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in, err := cloudevents.NewIngress(runCtx, nc, cl, withConverter([]cloudevents.IngressOption{cloudevents.WithIngressLogger(log),
		cloudevents.WithMeterProvider(mp)}, dc, cloudevents.WithDataConverter)...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("events: %w", err)
	}
	var wg sync.WaitGroup
	svc := &eventsService{}
	wg.Add(1)
	served := make(chan error, 1)
	go func() {
		defer wg.Done()
		err := in.Serve(runCtx)
		if err != nil {
			log.Error("events ingress stopped", "error", err)
		}
		served <- err
	}()
	select {
	case <-in.Ready():
	case err := <-served:
		cancel()
		wg.Wait()
		return nil, fmt.Errorf("events: %w", err)
	case <-ctx.Done():
		cancel()
		wg.Wait()
		return nil, ctx.Err()
	}
	if cfg != nil {
		names := streams.NewNames(ns)
		for _, s := range cfg.Services {
			var opts []bindings.Option
			if s.Timeout != "" {
				d, err := time.ParseDuration(s.Timeout)
				if err != nil {
					cancel()
					wg.Wait()
					return nil, &cliError{err: err, msg: fmt.Sprintf("--triggers: service %q: timeout %q: %v", s.Activity, s.Timeout, err)}
				}
				opts = append(opts, bindings.WithTimeout(d))
			}
			queue := s.TaskQueue
			if queue == "" {
				queue = "default"
			}
			opts = withConverter(opts, dc, bindings.WithDataConverter)
			r, err := bindings.NewServiceRunner(nc, names, queue, s.Activity, s.Subject, opts)
			if err != nil {
				cancel()
				wg.Wait()
				return nil, err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Run(runCtx); err != nil {
					log.Error("service binding stopped", "activity", s.Activity, "subject", s.Subject, "error", err)
				}
			}()
			log.Info("service binding", "activity", s.Activity, "task_queue", queue, "subject", s.Subject)
		}
	}
	var srv *edgeServer
	api := httpapi.New(cl, log, httpapi.WithTriggers(in.Store()))
	if httpAddr != "" {
		// One listener: CloudEvents at /v1/events, the management API
		// at the rest of /v1.
		mux := http.NewServeMux()
		mux.Handle(cloudevents.EventsPath, in.Handler())
		mux.Handle("/v1/", api.Handler())
		mux.Handle("/", webui.Handler())
		srv, err = edge.serve("HTTP endpoint", httpAddr, mux, log)
		if err != nil {
			cancel()
			wg.Wait()
			return nil, &cliError{err: err, msg: fmt.Sprintf("CloudEvents HTTP endpoint: %v (choose another address with --http, or --http off)", err)}
		}
		svc.httpURL = srv.url + cloudevents.EventsPath
		svc.apiURL = srv.url + "/v1"
		log.Info("HTTP endpoint ready", "events", svc.httpURL, "api", svc.apiURL, "bearer_tokens", edge.tokens.Len())
	}
	var once sync.Once
	svc.stop = func() {
		once.Do(func() {
			if srv != nil {
				api.Close() // event streams last until their clients leave
				srv.stop()
			}
			cancel()
			wg.Wait()
		})
	}
	return svc, nil
}

// resolveHTTP turns the --http flag into a listen address: "off" disables
// the endpoint; "auto" is host:4280, or a free port when NATS also runs on
// a free port (tests, several dev servers).
func resolveHTTP(flagValue, host string, anyPort bool) string {
	switch flagValue {
	case "off", "":
		return ""
	case "auto":
		if anyPort {
			return net.JoinHostPort(host, "0")
		}
		return net.JoinHostPort(host, fmt.Sprint(defaultHTTPPort))
	}
	return flagValue
}

// --- cairn server --------------------------------------------------------------

const serverUsage = `Usage:
  cairn server [--nats URL[,URL...]] [--namespace NS] [--replicas N] [--http ADDR] [--triggers FILE]
               [--log-level LEVEL] [--metrics ADDR] [--key-file FILE]
               [--http-token-file FILE] [--http-tls-cert FILE --http-tls-key FILE]

Serves CloudEvents for a cairn namespace on an existing NATS server or
cluster (no embedded NATS): events published to cairn.<ns>.events.> and
POSTed to http://ADDR/v1/events start workflows and send signals according
to the triggers (stored in the KV bucket cairn-<ns>-triggers; FILE adds or
replaces some at startup), and the service bindings of FILE serve their
activities. Run several for availability: they share the events (NATS queue
group).

It provisions the namespace: missing streams and buckets are created,
with N replicas (--replicas; 1 without it), and --replicas scales existing
ones to N; without it their replica count is left alone.

The HTTP endpoints (events and /metrics) accept only requests bearing one
of the tokens of --http-token-file or CAIRN_HTTP_TOKENS (Authorization:
Bearer TOKEN); without tokens they are open, and a warning is logged when
one listens on an address other machines can reach. --http-tls-cert and
--http-tls-key serve them over HTTPS. docs/security.md has the details.
`

func cmdServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("cairn server", serverUsage, stdout)
	g := defaultGlobals()
	c.fs.StringVar(&g.server, "nats", g.server, serverFlagUsage)
	c.fs.StringVar(&g.server, "server", g.server, "the same as --nats: NATS server `URL` or list")
	replicas := c.fs.Int("replicas", 0, "replica `count` of the namespace's streams and buckets, 1-5 (default: 1 for what is created, what exists keeps its count)")
	c.fs.StringVar(&g.namespace, "namespace", g.namespace, "cairn `namespace` (env "+envNamespace+")")
	g.registerAuth(c.fs)
	httpAddr := c.fs.String("http", fmt.Sprintf("127.0.0.1:%d", defaultHTTPPort), "`address` of the CloudEvents HTTP endpoint, or off")
	var edgeFlags httpEdgeFlags
	edgeFlags.register(c.fs)
	triggers := c.fs.String("triggers", "", "JSON `file` of triggers and service bindings to load at startup")
	level := c.fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	metrics := c.fs.String("metrics", "off", "Prometheus /metrics `address`, or off")
	var keyFile string
	registerProcessKeyFile(c.fs, &keyFile)
	if err := c.parse(args); err != nil {
		return err
	}
	dc, err := processConverter(keyFile)
	if err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	if given(c.fs, "replicas") && (*replicas < 1 || *replicas > 5) {
		return usageErrorf(c.name, "--replicas %d: want 1-5", *replicas)
	}
	edge, err := edgeFlags.load(c.name)
	if err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageErrorf(c.name, "--log-level %q: want debug, info, warn or error", *level)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	// OpenTelemetry from the OTEL_* environment: the starts made for events
	// continue the events' traces.
	metricsAddr, explicitMetrics := resolveMetrics(*metrics, "127.0.0.1", false)
	tel, err := startTelemetry(ctx, metricsAddr, explicitMetrics, edge, log)
	if err != nil {
		return err
	}
	defer tel.stop()
	log = tel.log
	nc, err := g.connect("cairn-server")
	if err != nil {
		return &cliError{err: err, msg: fmt.Sprintf("cannot reach a NATS server at %s: %v", g.server, err)}
	}
	defer nc.Close()
	if err := provision(ctx, nc, g.namespace, *replicas); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	svc, err := startEvents(ctx, nc, g.namespace, resolveHTTP(*httpAddr, "127.0.0.1", false), *triggers, edge,
		tel.providers.MeterProvider, log, dc, g.clientOptions()...)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer svc.stop()
	stopScheduler, err := startScheduler(ctx, nc, g.namespace, log) // schedules fire from here too
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer stopScheduler()
	fmt.Fprintf(stdout, "cairn server is running (namespace %s, NATS %s)\n", g.namespace, g.server)
	fmt.Fprintf(stdout, "  CloudEvents on NATS: %s\n", cloudevents.EventsSubject(g.namespace, ">"))
	if svc.httpURL != "" {
		fmt.Fprintf(stdout, "  CloudEvents on HTTP: POST %s\n", svc.httpURL)
		fmt.Fprintf(stdout, "  management API:      %s (%s%s)\n", svc.apiURL, svc.apiURL, strings.TrimPrefix(httpapi.OpenAPIPath, "/v1"))
		fmt.Fprintf(stdout, "  web UI:              %s/\n", strings.TrimSuffix(svc.apiURL, "/v1"))
	}
	fmt.Fprintf(stdout, "  rejected events:     %s\n", cloudevents.RejectedSubject(g.namespace))
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// provision creates or updates the namespace's streams and buckets, with
// the given replica count (0: one for what is created, what exists keeps
// its count).
func provision(ctx context.Context, nc *nats.Conn, ns string, replicas int) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	var opts []streams.Option
	if replicas > 0 {
		opts = append(opts, streams.WithReplicas(replicas))
	}
	if err := streams.Ensure(ctx, js, ns, opts...); err != nil {
		return fmt.Errorf("provision namespace %q: %w", ns, err)
	}
	return nil
}

// --- cairn trigger ---------------------------------------------------------------

const triggerUsage = `Usage:
  cairn trigger [--server URL] [--namespace NS] <command> [flags]

Commands:
  add      add or replace a trigger (or every trigger of a file)
  list     list the triggers
  remove   remove a trigger

Triggers map CloudEvents to workflows; docs/cloudevents.md explains them.
`

func cmdTrigger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := defaultGlobals()
	grp, err := parseGroup("cairn trigger", triggerUsage, &g, args, stdout, "missing command: add, list or remove")
	if err != nil {
		return err
	}
	sub, rest := grp.fs.Arg(0), grp.fs.Args()[1:]
	switch sub {
	case "add":
		return triggerAdd(ctx, g, rest, stdout)
	case "list", "ls":
		return triggerList(ctx, g, rest, stdout)
	case "remove", "rm":
		return triggerRemove(ctx, g, rest, stdout)
	case "help":
		grp.printUsage(stdout)
		return nil
	}
	return usageErrorf(grp.name, "unknown command %q", sub)
}

// openTriggers connects and opens the triggers bucket (creating it: it
// holds configuration only, nothing an operator tunes).
func (g *globalFlags) openTriggers(ctx context.Context) (*cloudevents.Store, func(), error) {
	nc, err := g.connect("cairn-cli")
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) {
			return nil, nil, &cliError{err: err, msg: fmt.Sprintf(
				"cannot reach a NATS server at %s (is 'cairn dev' running? set --server or %s)", g.server, envServer)}
		}
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	s, err := cloudevents.OpenStore(ctx, js, g.namespace)
	if err != nil {
		nc.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, nil, &cliError{err: err, msg: fmt.Sprintf("JetStream is not enabled on %s", g.server)}
		}
		return nil, nil, err
	}
	return s, nc.Close, nil
}

const triggerAddUsage = `Usage:
  cairn trigger add --name NAME (--type TYPE | --type-prefix PREFIX) [--source SRC] [--subject SUBJ]
                    --workflow-type WF [--queue QUEUE] [--id TEMPLATE] [--input-field PATH] [--reuse POLICY]
  cairn trigger add --name NAME --signal SIGNAL (--type TYPE | --type-prefix PREFIX) [--id TEMPLATE] [--input-field PATH]
  cairn trigger add --file FILE

Adds a trigger, replacing one of the same name. A start trigger starts a run
of WF per matching event; its workflow id is derived from the event's source
and id unless --id gives a template such as 'order-{{.data.id}}'. A signal
trigger (--signal) sends the signal SIGNAL to a running workflow: the one named by the
event's subject attribute, or by --id. --file adds every trigger of a
triggers file.
`

func triggerAdd(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn trigger add", triggerAddUsage, stdout)
	g.register(c.fs)
	var t cloudevents.Trigger
	c.fs.StringVar(&t.Name, "name", "", "trigger `name`, [A-Za-z0-9_-]{1,64}")
	c.fs.StringVar(&t.Type, "type", "", "match the event `type` exactly")
	c.fs.StringVar(&t.TypePrefix, "type-prefix", "", "match event types starting with `prefix`")
	c.fs.StringVar(&t.Source, "source", "", "match only events of this `source`")
	c.fs.StringVar(&t.Subject, "subject", "", "match only events with this `subject`")
	c.fs.StringVar(&t.WorkflowType, "workflow-type", "", "workflow `type` to start")
	c.fs.StringVar(&t.TaskQueue, "queue", "default", "task `queue` of the workflow")
	c.fs.StringVar(&t.WorkflowID, "id", "", "workflow id `template` (default: derived from the event's source and id; signals: its subject)")
	c.fs.StringVar(&t.InputField, "input-field", "", "use this field `path` of the data (e.g. order.lines) instead of all of it")
	c.fs.StringVar(&t.ReusePolicy, "reuse", "", "`policy` when a templated id's run is closed: reject (default), allow or failed-only")
	c.fs.StringVar(&t.SignalName, "signal", "", "make a signal trigger raising this `event` name")
	file := c.fs.String("file", "", "add every trigger of this JSON `file`")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	var list []cloudevents.Trigger
	if *file != "" {
		if t.Name != "" {
			return usageErrorf(c.name, "--file and --name are mutually exclusive")
		}
		cfg, err := cloudevents.LoadConfig(*file)
		if err != nil {
			return &cliError{err: err, msg: err.Error()}
		}
		list = cfg.Triggers
	} else {
		if t.Name == "" {
			return usageErrorf(c.name, "--name is required (or --file)")
		}
		if t.SignalName != "" {
			t.Kind = cloudevents.KindSignal
		}
		if err := t.Validate(); err != nil {
			return usageErrorf(c.name, "%s", strings.TrimPrefix(err.Error(), cloudevents.ErrInvalidTrigger.Error()+" "))
		}
		list = []cloudevents.Trigger{t}
	}
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	s, closeConn, err := g.openTriggers(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	for _, t := range list {
		if err := s.Put(opCtx, t); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Trigger %q saved (%s)\n", t.Name, describeTrigger(t))
	}
	return nil
}

func describeTrigger(t cloudevents.Trigger) string {
	match := "type " + t.Type
	if t.TypePrefix != "" {
		match = "type prefix " + t.TypePrefix
	}
	if t.Source != "" {
		match += ", source " + t.Source
	}
	if t.Subject != "" {
		match += ", subject " + t.Subject
	}
	if t.Kind == cloudevents.KindSignal {
		id := "the event's subject"
		if t.WorkflowID != "" {
			id = t.WorkflowID
		}
		return fmt.Sprintf("%s → signal %q on %s", match, t.SignalName, id)
	}
	id := "derived from source+id"
	if t.WorkflowID != "" {
		id = t.WorkflowID
	}
	return fmt.Sprintf("%s → start %s on %s, id %s", match, t.WorkflowType, t.TaskQueue, id)
}

const triggerListUsage = `Usage:
  cairn trigger list [--json]

Lists the namespace's triggers by name.
`

func triggerList(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn trigger list", triggerListUsage, stdout)
	g.register(c.fs)
	asJSON := c.fs.Bool("json", false, "print the triggers as a JSON triggers file")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	s, closeConn, err := g.openTriggers(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	list, err := s.List(opCtx)
	if err != nil && list == nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []cloudevents.Trigger{}
		}
		return writeJSON(stdout, cloudevents.Config{Triggers: list})
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No triggers.")
		return err
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "NAME\tKIND\tMATCH\tTARGET")
	for _, t := range list {
		d := describeTrigger(t)
		match, target, _ := strings.Cut(d, " → ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Kind, match, target)
	}
	tw.Flush()
	return err
}

const triggerRemoveUsage = `Usage:
  cairn trigger remove --name NAME

Removes a trigger. Events it matched are rejected from then on, unless
another trigger matches them.
`

func triggerRemove(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn trigger remove", triggerRemoveUsage, stdout)
	g.register(c.fs)
	name := c.fs.String("name", "", "trigger `name` (required)")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	if *name == "" {
		return usageErrorf(c.name, "--name is required")
	}
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	s, closeConn, err := g.openTriggers(opCtx)
	if err != nil {
		return err
	}
	defer closeConn()
	if err := s.Delete(opCtx, *name); err != nil {
		if errors.Is(err, cloudevents.ErrTriggerNotFound) {
			return &cliError{err: err, msg: fmt.Sprintf("trigger %q not found in namespace %q", *name, g.namespace)}
		}
		return err
	}
	fmt.Fprintf(stdout, "Trigger %q removed\n", *name)
	return nil
}

// --- cairn event -------------------------------------------------------------------

const eventUsage = `Usage:
  cairn event [--server URL] [--namespace NS] send --type TYPE --source SRC [--data JSON] [--id ID]
              [--subject SUBJ] [--extension NAME=VALUE]... [--binary] [--timeout D]

Publishes a CloudEvent to cairn.<ns>.events.cli (structured mode, or binary
mode with --binary) and prints what the triggers did with it, or why it was
rejected. Without --id the event gets a fresh id, so sending twice starts
twice; give --id to try de-duplication.
`

func cmdEvent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := defaultGlobals()
	grp, err := parseGroup("cairn event", eventUsage, &g, args, stdout, "missing command: send")
	if err != nil {
		return err
	}
	if sub := grp.fs.Arg(0); sub != "send" {
		return usageErrorf(grp.name, "unknown command %q", sub)
	}
	return eventSend(ctx, g, grp.fs.Args()[1:], stdout)
}

type extFlag map[string]string

func (e extFlag) String() string { return "" }
func (e extFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want NAME=VALUE")
	}
	e[k] = v
	return nil
}

func eventSend(ctx context.Context, g globalFlags, args []string, stdout io.Writer) error {
	c := newCommand("cairn event send", eventUsage, stdout)
	g.register(c.fs)
	typ := c.fs.String("type", "", "event `type` (required)")
	source := c.fs.String("source", "", "event `source` URI-reference (required)")
	data := c.fs.String("data", "", "event data as `JSON`")
	id := c.fs.String("id", "", "event `id` (default: a fresh one)")
	subject := c.fs.String("subject", "", "event `subject` (signal triggers: the workflow id)")
	binary := c.fs.Bool("binary", false, "binary content mode (ce- headers) instead of structured")
	timeout := c.fs.Duration("timeout", opTimeout, "how long to wait for the answer")
	ext := extFlag{}
	c.fs.Var(ext, "extension", "extension attribute `NAME=VALUE` (repeatable), e.g. traceparent=00-...")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := g.check(c.name); err != nil {
		return err
	}
	if *typ == "" || *source == "" {
		return usageErrorf(c.name, "--type and --source are required")
	}
	ev := event.New()
	if *id == "" {
		*id = nuid.Next()
	}
	ev.SetID(*id)
	ev.SetType(*typ)
	ev.SetSource(*source)
	ev.SetTime(time.Now().UTC())
	if *subject != "" {
		ev.SetSubject(*subject)
	}
	for k, v := range ext {
		ev.SetExtension(k, v)
	}
	if *data != "" {
		if !json.Valid([]byte(*data)) {
			return usageErrorf(c.name, "--data is not valid JSON")
		}
		if err := ev.SetData(event.ApplicationJSON, []byte(*data)); err != nil {
			return err
		}
	}
	if err := ev.Validate(); err != nil {
		return usageErrorf(c.name, "%v", err)
	}
	msg, err := cloudevents.NewNATSMsg(ctx, cloudevents.EventsSubject(g.namespace, "cli"), &ev, *binary)
	if err != nil {
		return err
	}
	nc, err := g.connect("cairn-cli")
	if err != nil {
		return &cliError{err: err, msg: fmt.Sprintf("cannot reach a NATS server at %s (is 'cairn dev' running? set --server or %s)", g.server, envServer)}
	}
	defer nc.Close()
	reply, err := nc.RequestMsg(msg, *timeout)
	if errors.Is(err, nats.ErrNoResponders) {
		return &cliError{err: err, msg: fmt.Sprintf("nothing serves CloudEvents for namespace %q on %s (run 'cairn dev' or 'cairn server')", g.namespace, g.server)}
	}
	if err != nil {
		return err
	}
	if code := reply.Header.Get(cloudevents.HeaderRejectCode); code != "" {
		return &cliError{msg: fmt.Sprintf("event %s rejected (%s): %s", *id, code, reply.Header.Get(cloudevents.HeaderRejectReason))}
	}
	var acc cloudevents.Accepted
	if err := json.Unmarshal(reply.Data, &acc); err != nil {
		return fmt.Errorf("unexpected answer %q: %w", reply.Data, err)
	}
	fmt.Fprintf(stdout, "Event %s accepted\n", acc.ID)
	for _, o := range acc.Outcomes {
		switch {
		case o.Kind == cloudevents.KindSignal:
			fmt.Fprintf(stdout, "  trigger %s: raised %q on workflow %q\n", o.Trigger, o.Signal, o.WorkflowID)
		case o.Created:
			fmt.Fprintf(stdout, "  trigger %s: started workflow %q (run %s)\n", o.Trigger, o.WorkflowID, o.Run)
		default:
			fmt.Fprintf(stdout, "  trigger %s: workflow %q already started by this event\n", o.Trigger, o.WorkflowID)
		}
	}
	return nil
}

// printEventsBanner tells where cairn dev takes CloudEvents.
func printEventsBanner(w io.Writer, ns string, evs *eventsService) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "CloudEvents: publish to %s", cloudevents.EventsSubject(ns, "<anything>"))
	if evs.httpURL != "" {
		fmt.Fprintf(w, " or POST to %s", evs.httpURL)
	}
	fmt.Fprintf(w, "; lifecycle events on cairn.%s.lifecycle.>; rejected events on %s\n", ns, cloudevents.RejectedSubject(ns))
	if evs.apiURL != "" {
		fmt.Fprintf(w, "Management API: %s (OpenAPI: %s%s)\n", evs.apiURL, evs.apiURL, strings.TrimPrefix(httpapi.OpenAPIPath, "/v1"))
		fmt.Fprintf(w, "Web UI: %s/\n", strings.TrimSuffix(evs.apiURL, "/v1"))
	}
}
