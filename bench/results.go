package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/streams"
)

// target is a goal a figure must meet.
type target struct {
	atMost bool // true: value <= v; false: value >= v
	v      float64
}

func (t *target) met(x float64) bool {
	if t.atMost {
		return x <= t.v
	}
	return x >= t.v
}

func (t *target) String() string {
	if t.atMost {
		return fmt.Sprintf("≤ %g", t.v)
	}
	prec := 0
	if t.v != math.Trunc(t.v) {
		prec = 2
	}
	return fmt.Sprintf("≥ %s", thousands(t.v, prec))
}

// metricDef says how a figure is shown.
type metricDef struct {
	key, bench, label, unit string
	prec                    int
	target                  *target
}

func metricDefs(cfg config) []metricDef {
	d := []metricDef{
		{"B1.p50_ms", "B1", fmt.Sprintf("start→result p50, %d sequential activities", cfg.b1Activities), "ms", 2, &target{true, 5}},
		{"B1.p95_ms", "B1", "start→result p95", "ms", 2, nil},
		{"B1.p99_ms", "B1", "start→result p99", "ms", 2, nil},
		{"B1.slow_gets", "B1", "results returned > 1 s after the close was stored (missed notification, 2 s re-poll)", "count", 0, nil},
		{"B2.wf_per_s", "B2", fmt.Sprintf("throughput, %s × 1 activity, %d client goroutines", thousands(float64(cfg.b2N), 0), cfg.b2Pool), "wf/s", 0, &target{false, 5000}},
		{"B2.wall_s", "B2", "wall time", "s", 2, nil},
		{"B2.lat_p50_ms", "B2", "start→result p50 under load", "ms", 1, nil},
		{"B2.lat_p99_ms", "B2", "start→result p99 under load", "ms", 1, nil},
		{"B2.lag_p50_ms", "B2", "close stored → Get returned, p50", "ms", 1, nil},
		{"B2.lag_p99_ms", "B2", "close stored → Get returned, p99", "ms", 1, nil},
		{"B2.slow_gets", "B2", "results returned > 1 s after the close was stored", "count", 0, nil},
		{"B2.notfound_gets", "B2", "Get answered \"not found\" for a run just started (a lagging replica; asked again)", "count", 0, nil},
		{"B3.s", "B3", fmt.Sprintf("fan-out of %d activities, start→result", cfg.b3N), "s", 3, &target{true, 0.1}},
		{"B3.tasks", "B3", "history messages of the run (client start + workflow tasks)", "count", 0, nil},
		{"B4.total_s", "B4", fmt.Sprintf("%s workflows sleeping %s: first start→last result", thousands(float64(cfg.b4N), 0), cfg.b4Sleep), "s", 2, nil},
		{"B4.starts_s", "B4", "time to start them all", "s", 2, nil},
		{"B4.late_p50_ms", "B4", "timer lateness p50 (TimerFired.time − FireAt)", "ms", 1, nil},
		{"B4.late_p99_ms", "B4", "timer lateness p99", "ms", 1, &target{true, 15}},
		{"B4.late_max_ms", "B4", "timer lateness max", "ms", 1, nil},
		{"B4.early", "B4", "timers recorded before FireAt", "count", 0, nil},
		{"B4.slow_gets", "B4", "results returned > 1 s after the close was stored", "count", 0, nil},
		{"COLD.events", "COLD", fmt.Sprintf("events in the history (%d activities)", cfg.coldN), "events", 0, nil},
		{"COLD.run_s", "COLD", "time to run it (sequential activities)", "s", 2, nil},
		{"COLD.load_ms", "COLD", "Store.Load (head + direct-get batch + decode), median", "ms", 2, nil},
		{"COLD.replay_ms", "COLD", "executor.New + Replay, median", "ms", 2, nil},
		{"COLD.load_restart_ms", "COLD", "Store.Load right after a server restart", "ms", 2, nil},
		{"COLD.replay_restart_ms", "COLD", "Replay after the restart", "ms", 2, nil},
	}
	for _, v := range []struct{ key, label string }{
		{"single", "single history msg + expected-last-subject-seq, sync"},
		{"single_cmds", "single history msg, then task + timer async, awaited (cairn today)"},
		{"atomic", "atomic batch of 3 (history + timer schedule + task)"},
	} {
		for _, g := range []int{1, 8} {
			k := fmt.Sprintf("COMMIT.%s.%d", v.key, g)
			d = append(d,
				metricDef{k + ".cps", "COMMIT", fmt.Sprintf("%s, %d goroutine(s): commits/s", v.label, g), "commits/s", 0, nil},
				metricDef{k + ".p50_ms", "COMMIT", fmt.Sprintf("%s, %d goroutine(s): p50 latency", v.label, g), "ms", 2, nil})
		}
	}
	counts := slices.Clone(cfg.scaleProcs)
	for _, n := range cfg.clusterScaleProcs {
		if !slices.Contains(counts, n) {
			counts = append(counts, n)
		}
	}
	slices.Sort(counts)
	for _, n := range counts {
		k := fmt.Sprintf("SCALE.p%d.", n)
		who := fmt.Sprintf("%d worker process(es)", n)
		d = append(d, metricDef{k + "wf_per_s", "SCALE", fmt.Sprintf("B2 throughput, %s", who), "wf/s", 0, nil})
		if n != cfg.scaleProcs[0] {
			d = append(d, metricDef{k + "ratio", "SCALE", fmt.Sprintf("%s: throughput ÷ that of %d", who, cfg.scaleProcs[0]), "×", 2, &target{false, 0.9}})
		}
		d = append(d,
			metricDef{k + "lat_p99_ms", "SCALE", who + ": start→result p99 under load", "ms", 1, nil},
			metricDef{k + "conflicts", "SCALE", who + ": workflow tasks that lost the conditional append (conflict)", "count", 0, nil},
			metricDef{k + "redelivered", "SCALE", who + ": workflow task messages delivered again", "count", 0, nil},
			metricDef{k + "naks", "SCALE", who + ": workflow task messages negatively acknowledged", "count", 0, nil},
			metricDef{k + "cold", "SCALE", who + ": workflow tasks that missed the sticky cache, beyond each workflow's first", "count", 0, nil},
			metricDef{k + "notfound_gets", "SCALE", who + ": Get answered \"not found\" for a run just started (asked again)", "count", 0, nil})
	}
	d = append(d,
		metricDef{"FAILOVER.last_med_s", "FAILOVER", fmt.Sprintf("kill → last instance of the dead worker's partitions closed, median of %d kills", cfg.failoverKills), "s", 2, nil},
		metricDef{"FAILOVER.last_max_s", "FAILOVER", "the same, worst of the run's kills", "s", 2, nil},
		metricDef{"FAILOVER.pin_med_s", "FAILOVER", "kill → last partition pinned to the survivor (advisory), median", "s", 2, nil},
		metricDef{"FAILOVER.partitions", "FAILOVER", fmt.Sprintf("partitions taken over per kill (of %d), median", streams.DefaultPartitions), "count", 0, nil},
		metricDef{"FAILOVER.affected", "FAILOVER", fmt.Sprintf("instances in them (of %d signalled), median", cfg.failoverN), "count", 0, nil},
		metricDef{"FAILOVER.others_p99_ms", "FAILOVER", "kill → close of the survivor's instances, p99", "ms", 1, nil},
	)
	for _, g := range []struct {
		name  string
		sleep time.Duration
	}{{"short", cfg.tkSleep}, {"long", cfg.tkSleepLong}} {
		if g.sleep <= 0 {
			continue
		}
		k := "TIMERKILL." + g.name + "."
		lbl := fmt.Sprintf("%s × sleep %s", thousands(float64(cfg.tkN), 0), g.sleep)
		d = append(d,
			metricDef{k + "late_p50_ms", "TIMERKILL", lbl + ": timer lateness p50", "ms", 1, nil},
			metricDef{k + "late_p99_ms", "TIMERKILL", lbl + ": timer lateness p99", "ms", 1, nil},
			metricDef{k + "late_max_ms", "TIMERKILL", lbl + ": timer lateness max", "ms", 1, nil},
			metricDef{k + "waited", "TIMERKILL", lbl + ": timers more than 1 s late", "count", 0, nil})
	}
	d = append(d,
		metricDef{"TIMERKILL.pin_s", "TIMERKILL", "kill → last partition pinned to the survivor (advisory)", "s", 2, nil},
		metricDef{"TIMERKILL.partitions", "TIMERKILL", "partitions pinned anew after the kill", "count", 0, nil},
		metricDef{"TIMERKILL.due_before_kill", "TIMERKILL", "timers due before the kill (should be 0)", "count", 0, nil},
	)
	for _, b := range benchmarks {
		d = append(d,
			metricDef{b.name + ".cpu_self", "load", b.name + ": CPU used by this process and its worker processes", "% of machine", 0, nil},
			metricDef{b.name + ".cpu_others", "load", b.name + ": CPU used by other processes (shared VM)", "% of machine", 0, nil})
	}
	return d
}

type results struct {
	loadBefore, loadAfter string
	machine               []string
	cfg                   config
	runs                  int
	modes                 []mode
	benches               []benchmark
	values                map[string]map[string][]float64 // mode → key → one value per run
	failures              map[string][]string             // mode → failures
	elapsed               time.Duration
}

func newResults(cfg config, runs int, modes []mode, benches []benchmark) *results {
	r := &results{cfg: cfg, runs: runs, modes: modes, benches: benches,
		values: map[string]map[string][]float64{}, failures: map[string][]string{}}
	for _, m := range modes {
		r.values[m.name] = map[string][]float64{}
	}
	return r
}

func (r *results) add(m mode, got metrics) {
	for k, v := range got {
		r.values[m.name][k] = append(r.values[m.name][k], v)
	}
}

func (r *results) fail(m mode, b benchmark, err error) {
	r.failures[m.name] = append(r.failures[m.name], fmt.Sprintf("%s: %v", b.name, err))
}

// median of a figure in a mode, and whether there is one.
func (r *results) get(m, key string) (float64, bool) {
	xs := r.values[m][key]
	if len(xs) == 0 {
		return 0, false
	}
	return median(xs), true
}

func (r *results) cell(m string, d metricDef) string {
	xs := r.values[m][d.key]
	if len(xs) == 0 {
		return "–"
	}
	s := thousands(median(xs), d.prec)
	if len(xs) > 1 {
		s += fmt.Sprintf(" <sub>(%s–%s)</sub>", thousands(slices.Min(xs), d.prec), thousands(slices.Max(xs), d.prec))
	}
	return s
}

func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# cairn benchmark results\n\n")
	p("Generated by `go run ./bench` (see README.md). Every figure is the **median of %d run(s)**, each on a fresh embedded "+
		"nats-server (file storage, temp dir, 127.0.0.1, random port), or in the cluster modes a fresh embedded cluster of such servers, "+
		"with the worker in the same process "+
		"(SCALE, FAILOVER and TIMERKILL: in separate worker processes of the same build); "+
		"the range across runs is shown small. Total wall time of this invocation: %s.\n\n", r.runs, r.elapsed.Round(time.Second))
	if shards > 0 {
		p("**What-if run:** the worker ran with %d orchestrator shards instead of the default.\n\n", shards)
	}
	if waiter != "client" {
		p("**What-if run:** results were awaited with the bench's `%s` waiter (waiter.go), not with `WorkflowRun.Get`. "+
			"These are not figures of record.\n\n", waiter)
	}
	p("## Machine\n\n")
	for _, l := range r.machine {
		p("- %s\n", l)
	}
	p("- load average (1 min): %s before, %s after\n", r.loadBefore, r.loadAfter)
	p("\n**Modes.** *default*: the server's default file store (no fsync per write; `sync_interval` 2 min — survives a process crash, " +
		"not an OS crash). *sync-always*: `WithSyncAlways(true)`, an fsync on every write.")
	for _, m := range r.modes {
		if m.clustered() {
			p(" *%s*: a %d-node cluster (`embedded.StartCluster`, every node in this process, routes on 127.0.0.1), default persistence, "+
				"the namespace at %d replica(s); the client and the workers connect with the list of the nodes' URLs.", m.name, m.nodes, m.replicas)
		}
	}
	p("\n\n")

	defs := metricDefs(r.cfg)
	p("## Figures\n\n")
	p("| bench | figure | unit |")
	for _, m := range r.modes {
		p(" %s |", m.name)
	}
	p(" target |\n|---|---|---|")
	for range r.modes {
		p("---:|")
	}
	p("---|\n")
	for _, d := range defs {
		present := false
		for _, m := range r.modes {
			if len(r.values[m.name][d.key]) > 0 {
				present = true
			}
		}
		if !present {
			continue
		}
		p("| %s | %s | %s |", d.bench, d.label, d.unit)
		for _, m := range r.modes {
			c := r.cell(m.name, d)
			if v, ok := r.get(m.name, d.key); ok && d.target != nil {
				if d.target.met(v) {
					c = "**" + c + "** ✅"
				} else {
					c = "**" + c + "** ❌"
				}
			}
			p(" %s |", c)
		}
		t := ""
		if d.target != nil {
			t = d.target.String() + " " + d.unit
		}
		p(" %s |\n", t)
	}
	for _, m := range r.modes {
		for _, f := range r.failures[m.name] {
			p("\n**FAILED (%s)**: %s\n", m.name, f)
		}
	}

	p("\nWhere the time goes, and what would make these figures better: see ANALYSIS.md.\n")
	p("\n## Comparison with peers\n\n")
	p("Peer figures as measured on this kind of machine (2 vCPU), quoted from the issue; cairn's are the medians above.\n\n")
	p("| system | B1 p50 | B2 | B3 | B4 lateness p99 |\n|---|---:|---:|---:|---:|\n")
	for _, m := range r.modes {
		cell := func(key string, prec int, unit string) string {
			if v, ok := r.get(m.name, key); ok {
				return thousands(v, prec) + " " + unit
			}
			return "–"
		}
		where := "embedded NATS"
		if m.clustered() {
			where = fmt.Sprintf("a %d-node embedded NATS cluster", m.nodes)
		}
		p("| **cairn** on %s, %s | %s | %s | %s | %s |\n", where, m.name,
			cell("B1.p50_ms", 1, "ms"), cell("B2.wf_per_s", 0, "wf/s"), cell("B3.s", 2, "s"), cell("B4.late_p99_ms", 1, "ms"))
	}
	for _, peer := range [][5]string{
		{"DBOS on PostgreSQL", "5.2 ms", "1,538 wf/s", "0.28 s", "1.0 ms"},
		{"durabletask-go on sqlite", "43.6 ms", "144 wf/s", "1.33 s", "13.8 ms"},
		{"go-workflows on sqlite", "200 ms", "292 wf/s", "0.54 s", "352 ms"},
		{"Temporal server on PostgreSQL", "202 ms", "49 wf/s", "7.3 s", "326 ms"},
		{"*cairn target*", "≤ 5 ms", "≥ 5,000 wf/s", "≤ 0.1 s", "≤ 15 ms"},
	} {
		p("| %s | %s | %s | %s | %s |\n", peer[0], peer[1], peer[2], peer[3], peer[4])
	}

	p("\n## Targets\n\n")
	for _, d := range defs {
		if d.target == nil {
			continue
		}
		for _, m := range r.modes {
			v, ok := r.get(m.name, d.key)
			if !ok {
				continue
			}
			verdict := "**met**"
			if !d.target.met(v) {
				verdict = "**NOT met**"
			}
			p("- %s %s (%s): %s %s against a target of %s %s — %s.\n", d.bench, d.label, m.name,
				thousands(v, d.prec), d.unit, d.target, d.unit, verdict)
		}
	}

	p("\n## Sizes\n\n")
	c := r.cfg
	p("B1: %d warm-up + %d measured workflows, one at a time. B2: %d warm-up, then %d workflows from %d goroutines "+
		"(each starts one and waits for its result). B3: %d fan-outs of %d per run after a fan-out of 50. "+
		"B4: %d workflows started from %d goroutines, each awaited as soon as started; lateness read from every history. "+
		"COLD: %d loads per run plus one after a server restart; replay through the executor with a mirror of the "+
		"workflow (the SDK adapter is internal to sdk/). COMMIT: %s per variant and goroutine count, each goroutine on its own instance.\n",
		c.b1Warmup, c.b1N, c.b2Warmup, c.b2N, c.b2Pool, c.b3Iter, c.b3N, c.b4N, c.b2Pool, c.coldIter, c.commitDur)
	p("\nSCALE: B2's sizes with the worker in %s process(es), each count on a fresh server; conflicts, redeliveries, naks "+
		"and cache misses are counted over the measured workflows only. FAILOVER: 2 worker processes, %d kills per run of the older one, "+
		"each with %d instances waiting on a signal, all signalled right after the kill; a new process replaces the dead one "+
		"before the next kill. TIMERKILL: 2 worker processes, %d workflows of each sleep, the older process killed once every timer is armed.\n",
		intList(c.scaleProcs), c.failoverKills, c.failoverN, c.tkN)
	var clustered []string
	for _, m := range r.modes {
		if m.clustered() {
			clustered = append(clustered, m.name)
		}
	}
	if len(clustered) > 0 {
		var ran []string
		for _, bm := range r.benches {
			for _, m := range clustered {
				if len(r.values[m][bm.name+".cpu_self"]) > 0 || slices.ContainsFunc(r.failures[m], func(f string) bool { return strings.HasPrefix(f, bm.name+":") }) {
					ran = append(ran, bm.name)
					break
				}
			}
		}
		p("\nCluster modes (%s): %s, with the sizes above; SCALE with the worker in %s process(es). "+
			"The cluster's nodes run in this process, so its CPU figures include all of them.\n",
			strings.Join(clustered, ", "), strings.Join(ran, ", "), intList(c.clusterScaleProcs))
	}
	return b.String()
}

// machine describes the host as the brief asks: date -u, nproc, CPU model,
// memory, Go and nats-server versions.
func machine() []string {
	run := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	date := run("date", "-u")
	if date == "" {
		date = time.Now().UTC().Format(time.UnixDate)
	}
	nproc := run("nproc")
	if nproc == "" {
		nproc = fmt.Sprint(runtime.NumCPU())
	}
	model, mem := "unknown", "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && k == "MemTotal" {
				var kb float64
				fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
				mem = fmt.Sprintf("%.1f GiB", kb/1024/1024)
				break
			}
		}
		f.Close()
	}
	return []string{
		"date: " + date,
		"nproc: " + nproc + fmt.Sprintf(" (GOMAXPROCS %d)", runtime.GOMAXPROCS(0)),
		"CPU: " + model,
		"memory: " + mem,
		fmt.Sprintf("Go: %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH),
		"nats-server: v" + server.VERSION + " (embedded), nats.go " + nats.Version,
		"cairn: " + gitState(run),
	}
}

// gitState names the commit measured and the files of the working tree that
// differ from it (other engineers edit the engine concurrently). It is read
// when the program starts, right after `go run` compiled it.
func gitState(run func(string, ...string) string) string {
	rev := run("git", "rev-parse", "--short", "HEAD")
	if rev == "" {
		return "unknown revision"
	}
	var dirty []string
	for _, l := range strings.Split(run("git", "status", "--porcelain", "--untracked-files=no"), "\n") {
		if f := strings.TrimSpace(l); f != "" && !strings.Contains(f, "bench/") {
			if _, name, ok := strings.Cut(f, " "); ok {
				dirty = append(dirty, strings.TrimSpace(name))
			}
		}
	}
	if len(dirty) == 0 {
		return "commit " + rev + ", clean"
	}
	return fmt.Sprintf("commit %s plus uncommitted changes in %s", rev, strings.Join(dirty, ", "))
}

// intList formats 1, 2, 4.
func intList(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// thousands formats x with prec decimals and thousands separators.
func thousands(x float64, prec int) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	s := fmt.Sprintf("%.*f", prec, x)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if len(intPart) > 3 {
		var out []byte
		for i, c := range []byte(intPart) {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				out = append(out, ',')
			}
			out = append(out, c)
		}
		intPart = string(out)
	}
	if hasFrac {
		intPart += "." + frac
	}
	if neg {
		intPart = "-" + intPart
	}
	return intPart
}
