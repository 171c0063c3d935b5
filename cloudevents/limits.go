package cloudevents

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/metric"
)

// Memory bounds of the NATS ingress. Core NATS pushes events at whatever
// rate publishers send them; what the ingress has received but not yet
// processed is held in memory, so it must be bounded. Past the bounds the
// NATS client drops events (a slow consumer): they are counted, logged and
// exported as the cairn.events.dropped metric. Events published without a
// reply subject are at-most-once either way; a publisher that needs to know
// uses request/reply or HTTP, which answer.
//
// With the defaults and 1 MiB events the events held are at most
// DefaultPendingBytes + workers*(workerQueue+1)*DefaultMaxEventSize
// = 64 MiB + 8*5*1 MiB = 104 MiB; docs/security.md states the bound.
const (
	// DefaultPendingMsgs and DefaultPendingBytes bound the events the
	// NATS client has received for the ingress and not yet handed to a
	// worker queue.
	DefaultPendingMsgs  = 65536
	DefaultPendingBytes = 64 << 20
	// workerQueue is how many events wait per worker: enough to keep a
	// worker busy, few enough that the queues hold little.
	workerQueue = 4
	// droppedCheck is how often the subscription's drop count is read.
	droppedCheck = time.Second
)

// MetricEventsDropped counts events the NATS ingress dropped because it
// was too far behind (its pending limits were reached).
const MetricEventsDropped = "cairn.events.dropped"

// WithPendingLimits bounds what the NATS subscription holds before
// processing: msgs events and bytes bytes (defaults DefaultPendingMsgs and
// DefaultPendingBytes). Both must be positive, and bytes at least the
// maximum event size, or every maximum-size event would be dropped.
func WithPendingLimits(msgs, bytes int) IngressOption {
	return func(o *ingressOptions) {
		if msgs < 1 || bytes < 1 {
			o.fail(fmt.Errorf("%w: pending limits %d messages, %d bytes: want both positive", ErrInvalidOption, msgs, bytes))
			return
		}
		o.pendingMsgs, o.pendingBytes = msgs, bytes
	}
}

// WithMeterProvider sets where the ingress's metrics go (default: none).
func WithMeterProvider(mp metric.MeterProvider) IngressOption {
	return func(o *ingressOptions) { o.meterProvider = mp }
}

// MemoryBound is the most event bytes the NATS ingress holds at once with
// its settings: the pending limit plus full worker queues and the events
// being processed, each at the maximum size. Processing one event allocates
// a small multiple of its size on top (decoding, the rejected copy).
func (in *Ingress) MemoryBound() int64 {
	return int64(in.opts.pendingBytes) + int64(in.opts.workers)*(workerQueue+1)*int64(in.opts.maxEventSize)
}

// Dropped is the number of events the NATS ingress dropped for being too
// far behind, since it started serving.
func (in *Ingress) Dropped() int64 { return in.dropped.Load() }

// dropCounter follows a subscription's drop count.
type dropCounter struct {
	total *atomic.Int64
	last  int
}

// checkDropped records the drops since the last check and logs them in
// one line, so a flood costs a log line a second, not one per event.
func (in *Ingress) checkDropped(sub *nats.Subscription, dc *dropCounter) {
	n, err := sub.Dropped()
	if err != nil || n <= dc.last {
		return
	}
	in.log.Warn("events dropped: the ingress is behind and its pending limits are reached (slow consumer)",
		"dropped", n-dc.last, "dropped_total", n, "pending_limit_msgs", in.opts.pendingMsgs, "pending_limit_bytes", in.opts.pendingBytes)
	dc.total.Add(int64(n - dc.last))
	dc.last = n
}

// registerMetrics exports the drop count.
func (in *Ingress) registerMetrics() error {
	if in.opts.meterProvider == nil {
		return nil
	}
	m := in.opts.meterProvider.Meter("github.com/cairnhq/cairn/cloudevents")
	_, err := m.Int64ObservableCounter(MetricEventsDropped, metric.WithUnit("{event}"),
		metric.WithDescription("CloudEvents the NATS ingress dropped because its pending limits were reached."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(in.dropped.Load())
			return nil
		}))
	if err != nil {
		return fmt.Errorf("events: metrics: %w", err)
	}
	return nil
}
