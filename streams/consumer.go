package streams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Consumer limits. They bound how many messages the server hands out before
// acks come back, across all workers sharing a consumer.
const (
	OrchestratorMaxAckPending = 10000
	ActivityMaxAckPending     = 1000
)

// Workflow task partitions. A queue's inbox is split into partitions,
// each read by its own durable consumer; the workers of the queue own
// partitions, and the consumer's pinned-client priority policy makes the
// server deliver a partition to one worker at a time (see orchestrator).
const (
	// DefaultPartitions is a queue's partition count unless its workers
	// set another: enough for eight workers to own two each.
	DefaultPartitions = 16
	// PriorityGroup is the priority group the workers pull with.
	PriorityGroup = "cairn"
	// PinnedTTL is how long a partition stays pinned to a worker that
	// stopped pulling (it died): the failover delay after a crash. The
	// owner pulls at least every PullExpiry, well inside it.
	PinnedTTL = 5 * time.Second
	// PartitionsMetadata is the consumer metadata key that records the
	// queue's partition count, so workers that disagree are told.
	PartitionsMetadata = "cairn.partitions"
)

// ErrPartitionMismatch means a queue's workflow task consumers were made
// for another partition count than the worker's.
var ErrPartitionMismatch = errors.New("streams: the queue is split into another number of partitions")

// EnsureOrchestratorConsumers creates or updates the durable pull consumers
// of a queue's workflow task partitions: partition p filters the inbox
// slots s with s % partitions == p, and pins to one client at a time. It
// removes the unpartitioned consumer of earlier versions, whose filter
// overlaps them. When the queue's consumers exist for another partition
// count the error wraps ErrPartitionMismatch: changing it means deleting
// them while no worker runs.
//
// All workers of the queue may call this concurrently at startup. ackWait
// <= 0 uses the server default (30s).
func EnsureOrchestratorConsumers(ctx context.Context, js jetstream.JetStream, names Names, queue string, partitions int, ackWait time.Duration) ([]jetstream.Consumer, error) {
	if err := ValidateQueue(queue); err != nil {
		return nil, err
	}
	if partitions < 1 || partitions > InboxSlots {
		return nil, fmt.Errorf("streams: %d partitions for queue %q, want 1..%d", partitions, queue, InboxSlots)
	}
	stream := names.InboxStream()
	if c, err := js.Consumer(ctx, stream, names.OrchestratorConsumer(queue, 0)); err == nil {
		if got := c.CachedInfo().Config.Metadata[PartitionsMetadata]; got != strconv.Itoa(partitions) {
			return nil, fmt.Errorf("%w: queue %q has %s partitions, this worker %d", ErrPartitionMismatch, queue, got, partitions)
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("streams: workflow task consumers of queue %q: %w", queue, err)
	}
	err := js.DeleteConsumer(ctx, stream, names.LegacyOrchestratorConsumer(queue))
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("streams: remove the unpartitioned consumer of queue %q: %w", queue, err)
	}
	out := make([]jetstream.Consumer, partitions)
	for p := range out {
		c, err := ensureConsumer(ctx, js, stream, jetstream.ConsumerConfig{
			Durable:        names.OrchestratorConsumer(queue, p),
			Description:    fmt.Sprintf("cairn workflow tasks of queue %s, partition %d of %d", queue, p, partitions),
			FilterSubjects: names.InboxPartitionFilters(queue, p, partitions),
			DeliverPolicy:  jetstream.DeliverAllPolicy,
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        positive(ackWait),
			// Redelivery is how a crashed worker's instance gets picked
			// up again, so it must never stop.
			MaxDeliver:     -1,
			MaxAckPending:  OrchestratorMaxAckPending,
			PriorityPolicy: jetstream.PriorityPolicyPinned,
			PriorityGroups: []string{PriorityGroup},
			PinnedTTL:      PinnedTTL,
			Metadata:       map[string]string{PartitionsMetadata: strconv.Itoa(partitions)},
		})
		if err != nil {
			return nil, err
		}
		out[p] = c
	}
	return out, nil
}

// EnsureActivityConsumer creates or updates the durable pull consumer that
// feeds the workers of one activity type on a queue. Same concurrency and
// ackWait rules as EnsureOrchestratorConsumer.
func EnsureActivityConsumer(ctx context.Context, js jetstream.JetStream, names Names, queue, activityType string, ackWait time.Duration) (jetstream.Consumer, error) {
	if err := ValidateQueue(queue); err != nil {
		return nil, err
	}
	return ensureConsumer(ctx, js, names.TasksStream(), jetstream.ConsumerConfig{
		Durable:       names.ActivityConsumer(queue, activityType),
		Description:   "cairn activity tasks of queue " + queue,
		FilterSubject: names.TaskSubject(queue, activityType),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       positive(ackWait),
		// Activity retries are decided by cairn's retry policy, not by
		// server redelivery limits.
		MaxDeliver:    -1,
		MaxAckPending: ActivityMaxAckPending,
	})
}

// ensureConsumer relies on the server's create-or-update action, which is
// atomic on the server, so concurrent callers with the same configuration
// all get the same consumer.
func ensureConsumer(ctx context.Context, js jetstream.JetStream, stream string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	var c jetstream.Consumer
	// A request that times out (a busy server, a cluster electing a
	// leader) is asked again, as provisioning does, rather than failing
	// the worker's start.
	err := retryTimeouts(ctx, js, func(ctx context.Context) error {
		var err error
		c, err = js.CreateOrUpdateConsumer(ctx, stream, cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("streams: ensure consumer %q on stream %q: %w", cfg.Durable, stream, err)
	}
	return c, nil
}

func positive(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}
