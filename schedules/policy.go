package schedules

import (
	"fmt"
	"time"
)

// OverlapPolicy decides what a fire does while the schedule's previous
// start is still running.
type OverlapPolicy string

const (
	// OverlapSkip (the default) skips the fire; the skip is counted and
	// recorded in the schedule's recent actions.
	OverlapSkip OverlapPolicy = "skip"
	// OverlapBufferOne remembers one fire and starts it as soon as the
	// running start closes; further fires while one is buffered are
	// skipped.
	OverlapBufferOne OverlapPolicy = "buffer-one"
	// OverlapAllowAll starts every fire, however many are running.
	OverlapAllowAll OverlapPolicy = "allow-all"
)

// CatchUpPolicy decides which fire times missed while the server or every
// runner was down are started when the schedule runs again.
type CatchUpPolicy string

const (
	// CatchUpNone starts no missed fire time: a fire older than the
	// catch-up window when it is processed is dropped, and so is a fire
	// already superseded by a newer one.
	CatchUpNone CatchUpPolicy = "none"
	// CatchUpLatest (the default) starts one run for the whole gap: the
	// newest missed fire time, however late. This is JetStream's own
	// behaviour (a missed schedule fires once after a restart).
	CatchUpLatest CatchUpPolicy = "latest"
	// CatchUpAll starts every missed fire time that lies within the
	// catch-up window (at most MaxCatchUp per fire), oldest first.
	CatchUpAll CatchUpPolicy = "all"
)

// Catch-up bounds.
const (
	// DefaultCatchUpWindow is how old a fire time may be and still be
	// started (by CatchUpAll and CatchUpNone).
	DefaultCatchUpWindow = time.Hour
	// MaxCatchUp caps the starts one fire may make when catching up, so a
	// per-second schedule after a long outage cannot flood the namespace.
	MaxCatchUp = 100
)

// ParseOverlapPolicy reads a policy name; "" is the default (skip).
func ParseOverlapPolicy(s string) (OverlapPolicy, error) {
	switch p := OverlapPolicy(s); p {
	case "":
		return OverlapSkip, nil
	case OverlapSkip, OverlapBufferOne, OverlapAllowAll:
		return p, nil
	}
	return "", fmt.Errorf("%w: overlap policy %q: want skip, buffer-one or allow-all", ErrInvalidSchedule, s)
}

// ParseCatchUpPolicy reads a policy name; "" is the default (latest).
func ParseCatchUpPolicy(s string) (CatchUpPolicy, error) {
	switch p := CatchUpPolicy(s); p {
	case "":
		return CatchUpLatest, nil
	case CatchUpNone, CatchUpLatest, CatchUpAll:
		return p, nil
	}
	return "", fmt.Errorf("%w: catch-up policy %q: want none, latest or all", ErrInvalidSchedule, s)
}
