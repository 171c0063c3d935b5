package streams

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the cron schedules of a namespace (package schedules).
//
// A schedule is a repeating JetStream message schedule on its own subject,
// cairn.<ns>.schedule.<escaped id>, targeting the schedule's fire subject,
// cairn.<ns>.schedulefire.<escaped id>, in the same stream (the server
// requires the target to live in the schedule's stream). The scheduler
// consumer filters the fire subjects only: acknowledging a schedule message
// on a WorkQueue stream would delete it, and so the schedule.

// SchedulesStream is the WorkQueue stream of schedule messages and of the
// fire messages they produce.
func (n Names) SchedulesStream() string { return "cairn-" + n.ns + "-schedules" }

// ScheduleSubject holds the repeating schedule message of one schedule. The
// server keeps at most one schedule per subject.
func (n Names) ScheduleSubject(scheduleID string) string {
	return "cairn." + n.ns + ".schedule." + EscapeToken(scheduleID)
}

// ScheduleFireSubject receives the fire messages of one schedule.
func (n Names) ScheduleFireSubject(scheduleID string) string {
	return "cairn." + n.ns + ".schedulefire." + EscapeToken(scheduleID)
}

// ScheduleFireFilter matches the fire subjects of every schedule of the
// namespace; it is the filter of the scheduler consumer.
func (n Names) ScheduleFireFilter() string { return "cairn." + n.ns + ".schedulefire.>" }

// ScheduleWildcard matches every schedule subject of the namespace.
func (n Names) ScheduleWildcard() string { return "cairn." + n.ns + ".schedule.>" }

// SchedulesBucket is the KV bucket of schedule definitions and state, one
// key per schedule (ScheduleKey).
func (n Names) SchedulesBucket() string { return "cairn-" + n.ns + "-schedules" }

// ScheduleKey is the key of a schedule in the schedules bucket.
func (n Names) ScheduleKey(scheduleID string) string { return EscapeToken(scheduleID) }

// SchedulerConsumer is the durable consumer shared by every scheduler
// runner of the namespace, so that each fire is processed once.
func (n Names) SchedulerConsumer() string { return "scheduler" }

// schedulesStreamConfig is the wanted configuration of the schedules
// stream.
func schedulesStreamConfig(n Names, o provisionOptions) jetstream.StreamConfig {
	c := scheduledWorkQueue(n.SchedulesStream(), "cairn cron schedules and their fires of namespace "+n.Namespace(),
		[]string{n.ScheduleWildcard(), n.ScheduleFireFilter()}, o)
	// Direct get tells whether a schedule message still exists (the
	// scheduler re-creates lost ones).
	c.AllowDirect = true
	return c
}

// schedulesBucketConfig is the wanted configuration of the schedules
// bucket.
func schedulesBucketConfig(n Names, o provisionOptions) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      n.SchedulesBucket(),
		Description: "cairn cron schedules of namespace " + n.Namespace(),
		History:     1,
		Storage:     o.storage,
		Replicas:    o.replicas,
	}
}

// SchedulerAckWait is how long a scheduler runner may take over one fire
// before the server redelivers it to another runner.
const SchedulerAckWait = 30 * time.Second

// EnsureSchedulerConsumer creates or updates the durable pull consumer
// shared by every scheduler runner of the namespace. It filters the fire
// subjects only (see ScheduleFireFilter).
func EnsureSchedulerConsumer(ctx context.Context, js jetstream.JetStream, names Names) (jetstream.Consumer, error) {
	return ensureConsumer(ctx, js, names.SchedulesStream(), jetstream.ConsumerConfig{
		Durable:       names.SchedulerConsumer(),
		Description:   "cairn schedule fires",
		FilterSubject: names.ScheduleFireFilter(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       SchedulerAckWait,
		// A fire is retried until it is processed: processing is
		// idempotent, and dropping it would lose a start.
		MaxDeliver:    -1,
		MaxAckPending: 1000,
	})
}
