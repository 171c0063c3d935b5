package cloudevents

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/internal/testutil"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/testenv"
)

// floodEventSize leaves room for the headers within the 1 MiB NATS
// payload limit and the ingress's 1 MiB event limit.
const floodEventSize = 1<<20 - 4<<10

// stalledIngress serves an ingress whose engine client has lost its
// connection: every event is retried for a while before it fails, so
// events arrive far faster than they are processed, which is when memory
// could grow. The limits are small so that a flood of a few hundred MiB is
// many times the bound.
func stalledIngress(t testing.TB, opts ...IngressOption) (*testenv.Env, *Ingress) {
	t.Helper()
	env := testenv.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	clConn := env.NewConn(t)
	cl, err := client.New(ctx, clConn)
	if err != nil {
		t.Fatal(err)
	}
	// Short retries keep the shutdown drain (what was received is
	// processed) brief.
	retries := func(o *ingressOptions) { o.retries, o.retryDelay = 1, 100*time.Millisecond }
	in, err := NewIngress(ctx, env.NewConn(t), cl, append([]IngressOption{retries}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Store().Put(ctx, Trigger{Name: "flood", Type: "com.example.flood", WorkflowType: "Echo"}); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 30*time.Second, func() bool {
		return len(in.snap.matching(func(tr *Trigger) bool { return tr.Name == "flood" })) == 1
	}, "the flood trigger is loaded")
	clConn.Close() // the engine is unreachable for the ingress
	done := make(chan error, 1)
	go func() { done <- in.Serve(ctx) }()
	select {
	case <-in.Ready():
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return env, in
}

// flood publishes n maximum-size events without a reply subject and waits
// until the ingress's connection has received them all (processed, held or
// dropped).
func flood(t testing.TB, env *testenv.Env, in *Ingress, n int) {
	t.Helper()
	pub := env.NewConn(t)
	before := in.nc.Stats().InMsgs
	data := append(append([]byte(`"`), bytes.Repeat([]byte("x"), floodEventSize-2)...), '"') // a JSON string
	for i := range n {
		m := nats.NewMsg(EventsSubject("default", fmt.Sprintf("flood.%d", i%16)))
		m.Header.Set("ce-specversion", "1.0")
		m.Header.Set("ce-id", fmt.Sprint(i))
		m.Header.Set("ce-source", "urn:flood")
		m.Header.Set("ce-type", "com.example.flood")
		m.Header.Set("content-type", "application/json")
		m.Data = data
		if err := pub.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, time.Minute, func() bool { return in.nc.Stats().InMsgs >= before+uint64(n) },
		"the ingress connection received the flood")
}

// liveHeap is the heap in use after a collection: what is retained. The
// least of three samples, as goroutines allocating between the collection
// and the reading (a message arriving, an event being decoded) only add.
func liveHeap() uint64 {
	least := uint64(1<<64 - 1)
	for range 3 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		least = min(least, ms.HeapAlloc)
	}
	return least
}

// rss is the resident set of this process (Linux), for the log only: it
// includes the embedded NATS server.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(out, ", ")
}

// A flood of maximum-size events without reply subjects once grew a
// server from 100 MB to 480 MB: the subscription could hold 1 GiB. The
// memory retained must now stay within the configured bound (with
// headroom for the processing copies), and the excess is dropped and
// counted.
func TestFloodOfMaxSizeEventsIsBounded(t *testing.T) {
	env, in := stalledIngress(t, WithWorkers(2), WithPendingLimits(64, 8<<20))
	const n = 200
	base := liveHeap()
	flood(t, env, in, n)
	testutil.EventuallyTrue(t, 30*time.Second, func() bool { return in.Dropped() > 0 }, "dropped events are counted")
	grown := int64(liveHeap()) - int64(base)
	// Generous: each event being processed is decoded and copied a few
	// times, and the embedded NATS server shares the heap. The flood is
	// several times this, and the former limits retained nearly all of it.
	bound := 3*in.MemoryBound() + 32<<20
	t.Logf("flood of %d x %d bytes: heap retained %+d MiB, bound %d MiB (limits %d MiB), dropped %d; %s",
		n, floodEventSize, grown>>20, bound>>20, in.MemoryBound()>>20, in.Dropped(), rss())
	if grown > bound {
		t.Fatalf("the flood retained %d MiB, more than %d MiB", grown>>20, bound>>20)
	}
	if d := in.Dropped(); d > n {
		t.Fatalf("%d events counted dropped of %d sent", d, n)
	}
}

// BenchmarkFloodMemory measures the heap retained and the events dropped
// when 400 maximum-size events without reply subjects reach an ingress
// with the default limits whose engine is unreachable.
func BenchmarkFloodMemory(b *testing.B) {
	for range b.N {
		env, in := stalledIngress(b)
		const n = 400
		base := liveHeap()
		flood(b, env, in, n)
		testutil.EventuallyTrue(b, 30*time.Second, func() bool { return in.Dropped() > 0 }, "dropped events are counted")
		grown := int64(liveHeap()) - int64(base)
		b.ReportMetric(float64(grown)/(1<<20), "MiB-retained")
		b.ReportMetric(float64(in.MemoryBound())/(1<<20), "MiB-bound")
		b.ReportMetric(float64(in.Dropped()), "dropped")
		b.Logf("%s", rss())
	}
}
