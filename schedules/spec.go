package schedules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Spec is a parsed schedule spec: when a schedule fires.
//
// Accepted forms, all checked here so that the server never rejects what
// was accepted:
//
//   - "@every <Go duration>", at least 1s and a whole number of seconds;
//   - a 6-field cron "sec min hour dom mon dow" (JetStream's form);
//   - a 5-field cron "min hour dom mon dow", run at second 0;
//   - "@yearly", "@annually", "@monthly", "@weekly", "@daily",
//     "@midnight", "@hourly".
//
// Cron specs are evaluated in TimeZone (an IANA name, default UTC);
// "@every" takes no time zone (the server rejects one).
type Spec struct {
	// Pattern is the value of the Nats-Schedule header.
	Pattern string
	// TimeZone is the value of Nats-Schedule-Time-Zone ("" for none).
	TimeZone string

	every time.Duration
	cron  *cron.SpecSchedule
}

// cronParser reads JetStream's 6-field form and the descriptors. The
// server's cron code is derived from robfig/cron, so both agree on field
// syntax (ranges, steps, names, '?') and on day-of-month/day-of-week
// semantics, and the fire times computed here are the server's.
func cronParser() cron.Parser {
	return cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// descriptors are the @-forms the server accepts besides @every and @at.
func descriptors() []string {
	return []string{"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
}

// ParseSpec parses a spec and its time zone. Errors wrap
// ErrInvalidSchedule.
func ParseSpec(spec, timeZone string) (Spec, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Spec{}, fmt.Errorf("%w: empty spec", ErrInvalidSchedule)
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		if timeZone != "" {
			return Spec{}, fmt.Errorf("%w: %q: a time zone applies to cron specs only", ErrInvalidSchedule, spec)
		}
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return Spec{}, fmt.Errorf("%w: %q: %w", ErrInvalidSchedule, spec, err)
		}
		if d < time.Second || d%time.Second != 0 {
			return Spec{}, fmt.Errorf("%w: %q: the interval must be a whole number of seconds, at least 1s", ErrInvalidSchedule, spec)
		}
		return Spec{Pattern: "@every " + d.String(), every: d}, nil
	}
	if strings.HasPrefix(spec, "@") && !slices.Contains(descriptors(), spec) {
		return Spec{}, fmt.Errorf("%w: %q: want @every <duration>, a cron expression or one of %s", ErrInvalidSchedule, spec, strings.Join(descriptors(), ", "))
	}
	if strings.Contains(spec, "TZ=") {
		return Spec{}, fmt.Errorf("%w: %q: give the time zone separately", ErrInvalidSchedule, spec)
	}
	pattern := spec
	if !strings.HasPrefix(spec, "@") {
		fields := strings.Fields(spec)
		switch len(fields) {
		case 5:
			fields = append([]string{"0"}, fields...)
		case 6:
		default:
			return Spec{}, fmt.Errorf("%w: %q: a cron spec has 6 fields (sec min hour dom mon dow) or 5 (min hour dom mon dow), not %d",
				ErrInvalidSchedule, spec, len(fields))
		}
		pattern = strings.Join(fields, " ")
	}
	loc := time.UTC
	if timeZone != "" {
		var err error
		if loc, err = time.LoadLocation(timeZone); err != nil {
			return Spec{}, fmt.Errorf("%w: time zone %q: %w", ErrInvalidSchedule, timeZone, err)
		}
	}
	parsed, err := cronParser().Parse(pattern)
	if err != nil {
		return Spec{}, fmt.Errorf("%w: %q: %w", ErrInvalidSchedule, spec, err)
	}
	cs, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return Spec{}, fmt.Errorf("%w: %q: not a cron schedule", ErrInvalidSchedule, spec)
	}
	cs.Location = loc
	s := Spec{Pattern: pattern, TimeZone: timeZone, cron: cs}
	if s.Next(time.Now()).IsZero() {
		// The server refuses patterns that never fire within five years
		// (for example February 30th) when they are due, not when they
		// are stored: reject them now.
		return Spec{}, fmt.Errorf("%w: %q never fires", ErrInvalidSchedule, spec)
	}
	return s, nil
}

// Every returns the interval of an "@every" spec, 0 for cron.
func (s Spec) Every() time.Duration { return s.every }

// Next returns the first cron fire time strictly after t (zero if none
// within five years). For "@every" specs, whose phase is set by the server
// when the schedule is stored, it returns t plus the interval.
func (s Spec) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every)
	}
	return s.cron.Next(t).UTC()
}

// Prev returns the last fire time strictly before t (zero if none found).
// For "@every" it is t minus the interval.
func (s Spec) Prev(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(-s.every)
	}
	// Look-back spans tried in turn; the last covers the rarest cron (Feb
	// 29) past the server's five-year horizon.
	windows := [...]time.Duration{2 * time.Second, 2 * time.Minute, 2 * time.Hour, 48 * time.Hour, 64 * 24 * time.Hour,
		2 * 366 * 24 * time.Hour, 9 * 366 * 24 * time.Hour}
	for _, w := range windows {
		lo := t.Add(-w)
		if n := s.cron.Next(lo); n.IsZero() || !n.Before(t) {
			continue
		}
		// Invariant: Next(lo) < t <= Next(hi). Narrow to one second, where
		// Next(lo) is the only whole second left in (lo, hi], so it is the
		// last fire time before t. Bounded: about 30 steps.
		hi := t
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2)
			if n := s.cron.Next(mid); !n.IsZero() && n.Before(t) {
				lo = mid
			} else {
				hi = mid
			}
		}
		return s.cron.Next(lo).UTC()
	}
	return time.Time{}
}

// Nominal is the fire time a fire message stands for, from its
// Nats-Schedule-Next header (the server's next fire time): the fire time
// before next. After a server restart the server fires a missed schedule
// once and computes next from the current time, so the nominal time is the
// last fire time before now (cron) or the restart time rounded to the second
// ("@every"); the catch-up policy accounts for the slots in between.
func (s Spec) Nominal(next time.Time) time.Time { return s.Prev(next) }

// Between returns the fire times x with after < x < before and
// x >= notBefore, oldest first, keeping only the newest max. For "@every"
// the grid is after + k*interval.
func (s Spec) Between(after, before, notBefore time.Time, max int) []time.Time {
	if max <= 0 || !after.Before(before) {
		return nil
	}
	var out []time.Time
	var x time.Time
	if s.every > 0 {
		k := (before.Sub(after) - 1) / s.every // largest k with after+k*every < before
		x = after.Add(k * s.every)
	} else {
		x = s.Prev(before)
	}
	for len(out) < max && !x.IsZero() && x.After(after) && !x.Before(notBefore) && x.Before(before) {
		out = append(out, x)
		x = s.Prev(x)
	}
	slices.Reverse(out)
	return out
}
