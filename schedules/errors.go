package schedules

import "errors"

// Errors. Functions wrap them with the schedule id and detail; match with
// errors.Is.
var (
	// ErrInvalidSchedule reports a schedule that cannot be stored: a
	// malformed spec or time zone, an unknown policy, a missing action.
	ErrInvalidSchedule = errors.New("invalid schedule")
	// ErrNotFound reports a schedule id that is not stored.
	ErrNotFound = errors.New("schedule not found")
	// ErrExists reports a create of an id that is already stored.
	ErrExists = errors.New("schedule already exists")
)
