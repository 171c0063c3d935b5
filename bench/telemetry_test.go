package main

import (
	"context"
	"fmt"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/worker"
	"github.com/cairnhq/cairn/telemetry"
	"github.com/cairnhq/cairn/testenv"
)

// discard is a span exporter that drops everything: the benchmark measures
// what tracing costs the engine, not a collector.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkTelemetry is B1 (one workflow of 10 sequential no-op
// activities, start to result) with tracing and metrics off (the default:
// the global no-op providers) and on (SDK providers, every span sampled and
// batched to an exporter that drops them, metrics collected by a reader):
//
//	go test ./bench -run '^$' -bench Telemetry -benchtime 200x -count 5
func BenchmarkTelemetry(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			env := testenv.New(b)
			var wopts []worker.Option
			copts := []client.Option{client.WithNamespace(env.Namespace())}
			if on {
				tp := telemetry.NewTracerProvider(sdktrace.WithBatcher(discard{}), sdktrace.WithSampler(sdktrace.AlwaysSample()))
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				b.Cleanup(func() {
					_ = tp.Shutdown(context.Background())
					_ = mp.Shutdown(context.Background())
				})
				wopts = append(wopts, worker.WithTracerProvider(tp), worker.WithMeterProvider(mp))
				copts = append(copts, client.WithTracerProvider(tp))
			}
			env.StartWorker(b, benchQueue, func(w *worker.Worker) { registerAll(w) }, wopts...)
			c, err := client.New(context.Background(), env.Conn(), copts...)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 5 {
				runOne(b, c, fmt.Sprintf("warm-%d", i), Sequential, 10)
			}
			loopSequential(b, c, "tel-"+name, Sequential, 10)
		})
	}
}
