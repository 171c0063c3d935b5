package streams

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Consumer limits. They bound how many messages the server hands out before
// acks come back, across all workers sharing a consumer.
const (
	OrchestratorMaxAckPending = 10000
	ActivityMaxAckPending     = 1000
)

// EnsureOrchestratorConsumer creates or updates the durable pull consumer
// that feeds a queue's workflow workers from their inboxes.
//
// All workers of the queue share it and may call this concurrently at
// startup. ackWait <= 0 uses the server default (30s); workers that disagree
// on ackWait overwrite each other's setting.
func EnsureOrchestratorConsumer(ctx context.Context, js jetstream.JetStream, names Names, queue string, ackWait time.Duration) (jetstream.Consumer, error) {
	if err := ValidateQueue(queue); err != nil {
		return nil, err
	}
	return ensureConsumer(ctx, js, names.InboxStream(), jetstream.ConsumerConfig{
		Durable:       names.OrchestratorConsumer(queue),
		Description:   "cairn workflow tasks of queue " + queue,
		FilterSubject: names.InboxFilter(queue),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       positive(ackWait),
		// Redelivery is how a crashed worker's instance gets picked up
		// again, so it must never stop.
		MaxDeliver:    -1,
		MaxAckPending: OrchestratorMaxAckPending,
	})
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
	c, err := js.CreateOrUpdateConsumer(ctx, stream, cfg)
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
