package schedules

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// MaxIDLen is the longest schedule id, in bytes; it leaves room for the
// fire time in the workflow ids derived from it.
const MaxIDLen = 200

// maxRecent is how many outcomes a schedule's state keeps.
const maxRecent = 20

// Schedule is a schedule's definition and state, as stored (JSON) in the
// schedules bucket.
type Schedule struct {
	// ID names the schedule; any UTF-8 string of 1..MaxIDLen bytes.
	ID string `json:"id"`
	// Spec is when it fires (see Spec), TimeZone where cron specs are
	// evaluated (IANA name, default UTC).
	Spec     string `json:"spec"`
	TimeZone string `json:"timeZone,omitempty"`
	// Action is the workflow each fire starts.
	Action  Action        `json:"action"`
	Overlap OverlapPolicy `json:"overlap"`
	CatchUp CatchUpPolicy `json:"catchUp"`
	// CatchUpWindow is how old a fire time may be and still be started
	// (default DefaultCatchUpWindow).
	CatchUpWindow history.Duration `json:"catchUpWindow"`
	// Paused schedules do not fire (their schedule message is purged).
	Paused bool `json:"paused,omitempty"`
	// Note is free text, set by create, pause and unpause.
	Note    string    `json:"note,omitempty"`
	Created time.Time `json:"created"`
	State   State     `json:"state"`

	// Revision is the KV revision the schedule was read at, for
	// compare-and-set.
	Revision uint64 `json:"-"`
}

// Action is the start a fire makes.
type Action struct {
	WorkflowType string `json:"workflowType"`
	TaskQueue    string `json:"taskQueue"`
	// Input is the workflow input, JSON (null if empty).
	Input json.RawMessage `json:"input,omitempty"`
	// WorkflowIDPrefix is prepended to the fire time to make the workflow
	// id (default "<schedule id>-").
	WorkflowIDPrefix string           `json:"workflowIdPrefix"`
	ExecutionTimeout history.Duration `json:"executionTimeout,omitempty"`
	Memo             json.RawMessage  `json:"memo,omitempty"`
}

// State is what a schedule did. The runner updates it with compare-and-set
// before it makes the starts it decided, so every start it records is
// eventually made (see Runner).
type State struct {
	// LastFire is the nominal time of the last scheduled fire processed;
	// fires at or before it are duplicates.
	LastFire time.Time `json:"lastFire,omitzero"`
	// NextFire is the server's next fire time, as of the last fire.
	NextFire time.Time `json:"nextFire,omitzero"`
	// Running is the workflow id of the schedule's latest start, checked
	// by the overlap policies.
	Running string `json:"running,omitempty"`
	// Started are the workflow ids the latest decision started; they are
	// started again (idempotently) before the next decision, in case the
	// process that decided died before starting them.
	Started []string `json:"started,omitempty"`
	// Buffered is the fire time held by OverlapBufferOne.
	Buffered *time.Time `json:"buffered,omitempty"`
	// Counters: runs started, fires skipped by the overlap policy, fire
	// times missed (not started after an outage; at most MaxCatchUp
	// counted per gap).
	Starts int64 `json:"starts"`
	Skips  int64 `json:"skips"`
	Missed int64 `json:"missed"`
	// Recent are the latest outcomes, oldest first.
	Recent []Outcome `json:"recent,omitempty"`
}

// What a fire time became.
const (
	OutcomeStarted  = "started"
	OutcomeSkipped  = "skipped"
	OutcomeBuffered = "buffered"
	OutcomeMissed   = "missed"
)

// Outcome records what became of one fire time.
type Outcome struct {
	// Fire is the nominal fire time (the trigger time of a manual fire).
	Fire       time.Time `json:"fire"`
	Result     string    `json:"result"`
	WorkflowID string    `json:"workflowId,omitempty"`
	Manual     bool      `json:"manual,omitempty"`
	// At is when the runner decided.
	At time.Time `json:"at"`
}

// WorkflowID is the workflow id of the start for fire time t: the prefix
// and t in UTC, RFC 3339 (with fractional seconds only for manual fires).
// Being a function of the schedule and the fire time is what makes every
// start idempotent.
func (s *Schedule) WorkflowID(t time.Time) string {
	return s.Action.WorkflowIDPrefix + t.UTC().Format(time.RFC3339Nano)
}

// Window returns the catch-up window, with its default.
func (s *Schedule) Window() time.Duration {
	if s.CatchUpWindow <= 0 {
		return DefaultCatchUpWindow
	}
	return s.CatchUpWindow.D()
}

// Normalize fills in defaults and validates s; it returns the parsed spec.
// Errors wrap ErrInvalidSchedule.
func (s *Schedule) Normalize() (Spec, error) {
	if s.ID == "" || len(s.ID) > MaxIDLen || !utf8.ValidString(s.ID) {
		return Spec{}, fmt.Errorf("%w: id %q: want 1..%d bytes of UTF-8", ErrInvalidSchedule, s.ID, MaxIDLen)
	}
	spec, err := ParseSpec(s.Spec, s.TimeZone)
	if err != nil {
		return Spec{}, fmt.Errorf("schedule %q: %w", s.ID, err)
	}
	if s.Overlap, err = ParseOverlapPolicy(string(s.Overlap)); err != nil {
		return Spec{}, fmt.Errorf("schedule %q: %w", s.ID, err)
	}
	if s.CatchUp, err = ParseCatchUpPolicy(string(s.CatchUp)); err != nil {
		return Spec{}, fmt.Errorf("schedule %q: %w", s.ID, err)
	}
	if s.CatchUpWindow < 0 {
		return Spec{}, fmt.Errorf("%w: schedule %q: negative catch-up window %v", ErrInvalidSchedule, s.ID, s.CatchUpWindow.D())
	}
	if s.CatchUpWindow == 0 {
		s.CatchUpWindow = history.Duration(DefaultCatchUpWindow)
	}
	a := &s.Action
	if a.WorkflowType == "" {
		return Spec{}, fmt.Errorf("%w: schedule %q: no workflow type", ErrInvalidSchedule, s.ID)
	}
	if a.TaskQueue == "" {
		a.TaskQueue = "default"
	}
	if err := streams.ValidateQueue(a.TaskQueue); err != nil {
		return Spec{}, fmt.Errorf("%w: schedule %q: %w", ErrInvalidSchedule, s.ID, err)
	}
	if len(a.Input) == 0 {
		a.Input = json.RawMessage("null")
	}
	if !json.Valid(a.Input) {
		return Spec{}, fmt.Errorf("%w: schedule %q: input is not valid JSON", ErrInvalidSchedule, s.ID)
	}
	if len(a.Memo) > 0 && !json.Valid(a.Memo) {
		return Spec{}, fmt.Errorf("%w: schedule %q: memo is not valid JSON", ErrInvalidSchedule, s.ID)
	}
	if a.ExecutionTimeout < 0 {
		return Spec{}, fmt.Errorf("%w: schedule %q: negative execution timeout", ErrInvalidSchedule, s.ID)
	}
	if a.WorkflowIDPrefix == "" {
		a.WorkflowIDPrefix = s.ID + "-"
	}
	if !utf8.ValidString(a.WorkflowIDPrefix) || len(a.WorkflowIDPrefix) > 1024-len(time.RFC3339Nano) {
		return Spec{}, fmt.Errorf("%w: schedule %q: workflow id prefix must be UTF-8 of at most %d bytes",
			ErrInvalidSchedule, s.ID, 1024-len(time.RFC3339Nano))
	}
	return spec, nil
}

// NextFire estimates the next fire time after now: the server's, as seen
// on the last fire, when it is still ahead, else computed from the spec
// (for "@every" the phase is the last fire's). Zero while paused.
func (s *Schedule) NextFire(now time.Time) time.Time {
	if s.Paused {
		return time.Time{}
	}
	if s.State.NextFire.After(now) {
		return s.State.NextFire
	}
	spec, err := ParseSpec(s.Spec, s.TimeZone)
	if err != nil {
		return time.Time{}
	}
	if d := spec.Every(); d > 0 {
		if s.State.LastFire.IsZero() {
			return time.Time{} // the server picks the phase; unknown until the first fire
		}
		k := now.Sub(s.State.LastFire)/d + 1
		return s.State.LastFire.Add(k * d)
	}
	return spec.Next(now)
}

// record appends an outcome, keeping the newest maxRecent.
func (st *State) record(o Outcome) {
	st.Recent = append(st.Recent, o)
	if n := len(st.Recent) - maxRecent; n > 0 {
		st.Recent = append([]Outcome(nil), st.Recent[n:]...)
	}
}

// clone returns a deep copy, so a decision never aliases the state it was
// computed from.
func (st State) clone() State {
	st.Started = append([]string(nil), st.Started...)
	st.Recent = append([]Outcome(nil), st.Recent...)
	if st.Buffered != nil {
		b := *st.Buffered
		st.Buffered = &b
	}
	return st
}
