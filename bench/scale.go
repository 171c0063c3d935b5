package main

import (
	"context"
	"fmt"
)

// runSCALE is B2 (same workload and sizes) with the worker in separate
// processes, once for each count of cfg.scaleProcs, each on a fresh
// server. Besides throughput it reports what several workers on one queue
// cost each other, counted over the measured workflows only (after the
// warm-up, between two moments when every task message is acknowledged):
//   - conflicts: workflow tasks whose commit lost the conditional append
//     (the engine's cairn.task.outcome "conflict", counted in the worker
//     processes);
//   - redelivered: deliveries of workflow task messages beyond the first
//     (the partition consumers' delivery count minus the task messages
//     removed from the inbox stream);
//   - naks: negative acknowledgements of task messages (server advisories);
//   - cold: tasks that found the instance outside the sticky cache, beyond
//     the one start task of each workflow (which always does).
func runSCALE(ctx context.Context, cfg *config, m mode) (metrics, error) {
	out := metrics{}
	var base float64
	counts := cfg.scaleProcs
	if m.clustered() {
		counts = cfg.clusterScaleProcs
	}
	for i, n := range counts {
		r, err := scaleOnce(ctx, cfg, m, n)
		if err != nil {
			return nil, fmt.Errorf("%d worker process(es): %w", n, err)
		}
		k := fmt.Sprintf("SCALE.p%d.", n)
		for name, v := range r {
			out[k+name] = v
		}
		if i == 0 {
			base = r["wf_per_s"]
		} else {
			out[k+"ratio"] = r["wf_per_s"] / base
		}
	}
	return out, nil
}

func scaleOnce(ctx context.Context, cfg *config, m mode, n int) (metrics, error) {
	e, err := newProcEnv(ctx, m, n)
	if err != nil {
		return nil, err
	}
	defer e.close()
	adv, err := e.watchAdvisories()
	if err != nil {
		return nil, err
	}
	defer adv.close()
	if _, err := startAndWait(ctx, e, "scw", cfg.b2Warmup, cfg.b2Pool, Sequential, 1); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	q0, err := e.quiet(ctx)
	if err != nil {
		return nil, err
	}
	st0, err := e.procStats(ctx)
	if err != nil {
		return nil, err
	}
	naks0 := adv.nakCount()
	nf0 := e.notFound.Load()

	r, err := startAndWait(ctx, e, "sc", cfg.b2N, cfg.b2Pool, Sequential, 1)
	if err != nil {
		return nil, err
	}

	q1, err := e.quiet(ctx)
	if err != nil {
		return nil, err
	}
	naks := adv.nakCount() - naks0
	st1, err := e.stopProcs(ctx)
	if err != nil {
		return nil, err
	}
	st := st1.sub(st0)
	xs := durationsMS(r.lat)
	out := metrics{
		"wf_per_s":    float64(cfg.b2N) / r.wall.Seconds(),
		"lat_p99_ms":  percentile(xs, 99),
		"conflicts":   float64(st["task.conflict"]),
		"redelivered": float64(redeliveries(q0, q1)),
		"naks":        float64(naks),
		"cold":        float64(st["cache.miss"] - int64(cfg.b2N)),
	}
	if m.clustered() {
		out["notfound_gets"] = float64(e.notFound.Load() - nf0)
	}
	return out, nil
}
