package timers

import (
	"time"

	"github.com/nats-io/nats.go"
)

// Schedule headers of ADR-51.
const (
	HeaderSchedule       = "Nats-Schedule"
	HeaderScheduleTarget = "Nats-Schedule-Target"
	HeaderScheduler      = "Nats-Scheduler"
	HeaderScheduleNext   = "Nats-Schedule-Next"
	// SchedulePurge, as HeaderScheduleNext with HeaderScheduler naming a
	// schedule's subject, on a message published to the schedule's stream,
	// purges that schedule as the message is stored (ADR-51).
	SchedulePurge = "purge"
)

// At formats a due time as an @at schedule. It keeps nanoseconds: a
// whole-second format (what nats.go's WithScheduleAt uses) can fire up to a
// second early.
func At(t time.Time) string { return "@at " + t.UTC().Format(time.RFC3339Nano) }

// NewScheduleMsg returns the schedule message for a timer on subject that
// publishes body and header to target at fireAt. Publishing a new schedule on
// the same subject replaces the old one (the server rolls the subject up).
func NewScheduleMsg(subject, target string, fireAt time.Time, header nats.Header, body []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	for k, v := range header {
		m.Header[k] = v
	}
	m.Header.Set(HeaderSchedule, At(fireAt))
	m.Header.Set(HeaderScheduleTarget, target)
	m.Data = body
	return m
}

// IsScheduled reports whether a message was produced by a schedule (rather
// than published directly), from the header the server adds.
func IsScheduled(h nats.Header) bool { return h.Get(HeaderScheduler) != "" }
