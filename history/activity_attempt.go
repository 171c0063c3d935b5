package history

import "time"

// ActivityAttempt identifies one attempt of one activity of one run, and
// says what bounds it. It is the one model of an attempt: the activity
// wire protocol's task (activities.Task embeds it), the span of the attempt
// (telemetry) and what activity code sees (sdk/activity.Info is this type)
// all share it, so a field added here appears everywhere.
type ActivityAttempt struct {
	Namespace    string
	WorkflowID   string
	Run          string
	WorkflowType string
	ActivityID   string
	ActivityType string
	// Queue is the task queue the attempt was received on.
	Queue string
	// Attempt is 1-based; it grows with each retry the engine schedules.
	// Redeliveries of the same attempt keep the number.
	Attempt int
	// Deliveries counts deliveries of this attempt's message; above 1 means
	// an earlier worker died or stalled while running it.
	Deliveries int
	// Scheduled is when the engine scheduled this attempt.
	Scheduled time.Time
	// Deadline is the schedule-to-close deadline of the activity (all
	// attempts); zero means none.
	Deadline time.Time
	// HeartbeatTimeout is how often the attempt must record a heartbeat;
	// zero means it need not.
	HeartbeatTimeout time.Duration
}
