// Command bench measures cairn end to end against a real, embedded
// nats-server with file storage: latency, throughput, fan-out, timers,
// cold loads and the raw cost of the two commit alternatives. See
// README.md; `go run ./bench` runs everything in both persistence modes and
// writes bench/RESULTS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// metrics are the figures of one benchmark run, by key (see metricDefs).
type metrics map[string]float64

// config holds the sizes of every benchmark.
type config struct {
	b1Warmup, b1N, b1Activities int
	b2Warmup, b2N, b2Pool       int
	b3N, b3Iter                 int
	b4N                         int
	b4Sleep                     time.Duration
	coldN, coldIter             int
	commitDur                   time.Duration
	scaleProcs                  []int
	clusterScaleProcs           []int // SCALE's process counts in a cluster mode
	failoverN, failoverKills    int
	tkN                         int
	tkSleep, tkSleepLong        time.Duration
	timeout                     time.Duration
}

type benchmark struct {
	name string
	desc string
	run  func(ctx context.Context, cfg *config, m mode) (metrics, error)
}

var benchmarks = []benchmark{
	{"B1", "latency of one workflow of 10 sequential no-op activities", runB1},
	{"B2", "throughput of 1-activity workflows", runB2},
	{"B3", "one workflow fanning out 500 activities", runB3},
	{"B4", "1,000 workflows sleeping 1 s: total time and timer lateness", runB4},
	{"COLD", "cold load and replay of a ~1,000-event history", runCOLD},
	{"COMMIT", "raw commit alternatives: single conditional message vs atomic batch", runCOMMIT},
	{"SCALE", "B2 with the worker in 1, 2 and 4 processes: throughput, conflicts, redeliveries", runSCALE},
	{"FAILOVER", "2 worker processes, one SIGKILLed: time until its instances progress again", runFAILOVER},
	{"TIMERKILL", "timer lateness when the worker that armed the timers is SIGKILLed", runTIMERKILL},
}

// mode is how the benchmarks' server runs: its persistence, and whether it
// is a single server or a cluster of nodes on which the namespace has
// replicas (read by startServer and newEnv).
type mode struct {
	name       string
	syncAlways bool
	nodes      int // > 1: an embedded cluster of that many nodes
	replicas   int // the namespace's replica count; 0: none given (R1)
}

var (
	modeDefault = mode{name: "default"}
	modeSync    = mode{name: "sync-always", syncAlways: true}
)

// clustered reports whether the mode runs on a cluster.
func (m mode) clustered() bool { return m.nodes > 1 }

// parseMode reads a mode name of -modes: default, sync-always, or
// cluster-rN (the cluster of -cluster-nodes nodes, default persistence, the
// namespace at N replicas).
func parseMode(name string, nodes int) (mode, error) {
	switch name {
	case modeDefault.name:
		return modeDefault, nil
	case modeSync.name:
		return modeSync, nil
	}
	var r int
	if _, err := fmt.Sscanf(name, "cluster-r%d", &r); err != nil || name != fmt.Sprintf("cluster-r%d", r) {
		return mode{}, fmt.Errorf("unknown mode %q (default, sync-always, cluster-r1, cluster-r3, ...)", name)
	}
	if nodes < 2 {
		return mode{}, fmt.Errorf("mode %s: -cluster-nodes is %d, a cluster needs at least 2", name, nodes)
	}
	if r < 1 || r > nodes || r > 5 {
		return mode{}, fmt.Errorf("mode %s: %d replicas on %d nodes (1..%d)", name, r, nodes, min(nodes, 5))
	}
	return mode{name: name, nodes: nodes, replicas: r}, nil
}

// parseCounts reads a comma-separated list of positive counts.
func parseCounts(flagName, list string) []int {
	var out []int
	for _, f := range strings.Split(list, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 1 {
			log.Fatalf("-%s: %q is not a process count", flagName, f)
		}
		out = append(out, n)
	}
	return out
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		workerMain(os.Args[2:]) // a worker process of SCALE, FAILOVER, TIMERKILL (proc.go)
		return
	}
	var (
		cfg        config
		benchList  = flag.String("bench", "B1,B2,B3,B4,COLD,COMMIT,SCALE,FAILOVER,TIMERKILL", "comma-separated benchmarks to run")
		scaleProcs = flag.String("scale-procs", "1,2,4", "SCALE worker process counts; ratios are to the first")
		modeList   = flag.String("modes", "default,sync-always,cluster-r1,cluster-r3", "modes to run: default, sync-always (single server), cluster-rN (a cluster of -cluster-nodes nodes, the namespace at N replicas)")
		syncAlways = flag.Bool("sync-always", false, "shorthand for -modes sync-always (=false: -modes default); overrides -modes")
		nodes      = flag.Int("cluster-nodes", 3, "nodes of the cluster modes")
		clBench    = flag.String("cluster-bench", "B2,SCALE,COMMIT", "the benchmarks of -bench that also run in the cluster modes")
		clProcs    = flag.String("cluster-scale-procs", "1,2", "SCALE worker process counts in the cluster modes; the first must be -scale-procs' first")
		runs       = flag.Int("runs", 3, "runs per benchmark and mode; figures are medians")
		out        = flag.String("out", "bench/RESULTS.md", "results file (empty: do not write)")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the whole run (server, worker and client share this process)")
		memProfile = flag.String("memprofile", "", "write an allocation profile at the end")
		blockProf  = flag.String("blockprofile", "", "write a blocking profile (where goroutines wait: round trips, locks) at the end")
	)
	flag.IntVar(&cfg.b1Warmup, "b1-warmup", 20, "B1 warm-up workflows")
	flag.IntVar(&cfg.b1N, "b1-n", 200, "B1 measured workflows")
	flag.IntVar(&cfg.b1Activities, "b1-activities", 10, "B1 activities per workflow")
	flag.IntVar(&cfg.b2Warmup, "b2-warmup", 100, "B2 warm-up workflows")
	flag.IntVar(&cfg.b2N, "b2-n", 2000, "B2 workflows")
	flag.IntVar(&cfg.b2Pool, "pool", 128, "B2/B4 client goroutines")
	flag.IntVar(&cfg.b3N, "b3-n", 500, "B3 fan-out width")
	flag.IntVar(&cfg.b3Iter, "b3-iter", 3, "B3 fan-outs per run (median)")
	flag.IntVar(&cfg.b4N, "b4-n", 1000, "B4 sleeping workflows")
	flag.DurationVar(&cfg.b4Sleep, "b4-sleep", time.Second, "B4 sleep")
	flag.IntVar(&cfg.coldN, "cold-n", 500, "COLD sequential activities (2n+2 events)")
	flag.IntVar(&cfg.coldIter, "cold-iter", 10, "COLD loads per run (median)")
	flag.DurationVar(&cfg.commitDur, "commit-dur", 2*time.Second, "COMMIT duration of each variant")
	flag.IntVar(&cfg.failoverN, "failover-n", 200, "FAILOVER instances waiting on a signal, per kill")
	flag.IntVar(&cfg.failoverKills, "failover-kills", 3, "FAILOVER kills per run")
	flag.IntVar(&cfg.tkN, "timerkill-n", 200, "TIMERKILL sleeping workflows of each sleep")
	flag.DurationVar(&cfg.tkSleep, "timerkill-sleep", 2*time.Second, "TIMERKILL short sleep (due before the dead worker's partitions move)")
	flag.DurationVar(&cfg.tkSleepLong, "timerkill-sleep-long", 8*time.Second, "TIMERKILL long sleep (due after they moved); 0: none")
	flag.IntVar(&shards, "shards", 0, "orchestrator shards of the worker (0: the engine's default, 16×GOMAXPROCS); a what-if knob")
	flag.StringVar(&waiter, "waiter", "client", "how results are awaited: client (WorkflowRun.Get, the figures of record) or head (what-if: notification-safe head-only wait, see waiter.go)")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "timeout of one benchmark run")
	flag.Parse()
	log.SetFlags(log.Ltime)

	var modes []mode
	for _, name := range strings.Split(*modeList, ",") {
		m, err := parseMode(strings.ToLower(strings.TrimSpace(name)), *nodes)
		if err != nil {
			log.Fatalf("-modes: %v", err)
		}
		modes = append(modes, m)
	}
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "sync-always" {
			if *syncAlways {
				modes = []mode{modeSync}
			} else {
				modes = []mode{modeDefault}
			}
		}
	})
	var selected []benchmark
	for _, name := range strings.Split(*benchList, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		i := slices.IndexFunc(benchmarks, func(b benchmark) bool { return b.name == name })
		if i < 0 {
			log.Fatalf("unknown benchmark %q", name)
		}
		selected = append(selected, benchmarks[i])
	}
	onCluster := map[string]bool{}
	for _, name := range strings.Split(*clBench, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if !slices.ContainsFunc(benchmarks, func(b benchmark) bool { return b.name == name }) {
			log.Fatalf("-cluster-bench: unknown benchmark %q", name)
		}
		if name == "COLD" {
			log.Fatal("-cluster-bench: COLD restarts its server, which the cluster modes do not do")
		}
		onCluster[name] = true
	}
	cfg.scaleProcs = parseCounts("scale-procs", *scaleProcs)
	cfg.clusterScaleProcs = parseCounts("cluster-scale-procs", *clProcs)
	if cfg.clusterScaleProcs[0] != cfg.scaleProcs[0] {
		log.Fatalf("-cluster-scale-procs must start with %d, as -scale-procs does: ratios are to the first count", cfg.scaleProcs[0])
	}
	if cfg.failoverN < 1 || cfg.failoverKills < 1 || cfg.tkN < 1 || cfg.tkSleep <= 0 {
		log.Fatal("-failover-n, -failover-kills, -timerkill-n and -timerkill-sleep must be positive")
	}
	if *runs < 1 {
		log.Fatal("-runs must be at least 1")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	if *blockProf != "" {
		blockProfileRate = int(10 * time.Microsecond)
		runtime.SetMutexProfileFraction(10)
	}
	res := newResults(cfg, *runs, modes, selected)
	res.loadBefore = loadAvg()
	res.machine = machine() // before the runs: the engine under test is what was just compiled
	began := time.Now()
	for r := 1; r <= *runs; r++ {
		for _, m := range modes {
			for _, b := range selected {
				if m.clustered() && !onCluster[b.name] {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
				t := time.Now()
				c0 := sampleCPU()
				got, err := b.run(ctx, &cfg, m)
				self, others := cpuShares(c0, sampleCPU())
				cancel()
				if err != nil {
					log.Printf("run %d/%d %-11s %-6s FAILED after %s: %v", r, *runs, m.name, b.name, time.Since(t).Round(time.Millisecond), err)
					res.fail(m, b, err)
					continue
				}
				got[b.name+".cpu_self"], got[b.name+".cpu_others"] = self, others
				log.Printf("run %d/%d %-11s %-6s %6.1fs  %s", r, *runs, m.name, b.name, time.Since(t).Seconds(), got)
				res.add(m, got)
				runtime.GC()
			}
		}
	}
	res.elapsed = time.Since(began)
	res.loadAfter = loadAvg()
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			log.Fatal(err)
		}
		f.Close()
	}
	if *blockProf != "" {
		for _, p := range []struct{ name, file string }{{"block", *blockProf}, {"mutex", *blockProf + ".mutex"}} {
			f, err := os.Create(p.file)
			if err != nil {
				log.Fatal(err)
			}
			if err := pprof.Lookup(p.name).WriteTo(f, 0); err != nil {
				log.Fatal(err)
			}
			f.Close()
		}
	}
	report := res.markdown()
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s (total %s)", *out, res.elapsed.Round(time.Second))
	}
}

// String renders metrics compactly for the progress log.
func (m metrics) String() string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%.4g ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}
