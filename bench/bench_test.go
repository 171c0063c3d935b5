package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/testenv"
)

// Quick regression benchmarks on testenv (default persistence):
//
//	go test ./bench -run '^$' -bench . -benchtime 100x
//
// The full suite with both persistence modes is the program: go run ./bench.

func benchEnv(b *testing.B) *client.Client {
	b.Helper()
	env := testenv.New(b)
	env.StartWorker(b, benchQueue, func(w *worker.Worker) { registerAll(w) })
	return env.Client(b)
}

func runOne(b *testing.B, c *client.Client, id string, wf, in any) time.Duration {
	b.Helper()
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.Start(ctx, client.StartOptions{ID: id, TaskQueue: benchQueue}, wf, in)
	if err != nil {
		b.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// loopSequential runs workflows one at a time for b.Loop and reports the
// median and p99 besides the mean (ns/op), which the client's occasional
// 2 s re-poll distorts.
func loopSequential(b *testing.B, c *client.Client, prefix string, wf, in any) {
	var lat []float64
	i := 0
	for b.Loop() {
		lat = append(lat, ms(runOne(b, c, fmt.Sprintf("%s-%d", prefix, i), wf, in)))
		i++
	}
	b.ReportMetric(percentile(lat, 50), "p50-ms")
	b.ReportMetric(percentile(lat, 99), "p99-ms")
}

// BenchmarkSequential10 is B1: one workflow of 10 sequential no-op
// activities, start to result, one at a time.
func BenchmarkSequential10(b *testing.B) {
	c := benchEnv(b)
	for i := range 5 {
		runOne(b, c, fmt.Sprintf("warm-%d", i), Sequential, 10)
	}
	loopSequential(b, c, "seq10", Sequential, 10)
}

// BenchmarkStartToResult is the shortest round trip: a workflow of one
// no-op activity, start to result, one at a time.
func BenchmarkStartToResult(b *testing.B) {
	c := benchEnv(b)
	for i := range 5 {
		runOne(b, c, fmt.Sprintf("warm-%d", i), Sequential, 1)
	}
	loopSequential(b, c, "one", Sequential, 1)
}

// BenchmarkThroughput is B2 in small: 1-activity workflows from parallel
// clients (GOMAXPROCS × 32 goroutines); ns/op is the inverse of throughput.
func BenchmarkThroughput(b *testing.B) {
	c := benchEnv(b)
	runOne(b, c, "warm", Sequential, 1)
	b.SetParallelism(32)
	var n atomicCounter
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			runOne(b, c, fmt.Sprintf("par-%d", n.next()), Sequential, 1)
		}
	})
}
