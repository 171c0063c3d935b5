package schedules

import (
	"errors"
	"testing"
	"time"
)

// Fuzz target of the schedule spec parser: specs come from clients and the
// CLI, and are parsed again from the schedules bucket. .ci/fuzz runs it.

// FuzzParseSpec checks that ParseSpec either rejects a spec with
// ErrInvalidSchedule or returns one whose pattern parses to itself (what is
// stored reads back the same) and that fires after, never at or before, the
// time it is asked about.
func FuzzParseSpec(f *testing.F) {
	for _, c := range [][2]string{
		{"@every 1s", ""}, {"@every 90m", ""}, {"*/2 * * * * *", ""}, {"*/5 * * * *", ""},
		{"0 30 9 * * MON-FRI", "Europe/Paris"}, {"@daily", "America/New_York"}, {"@hourly", ""},
		{"0 0 0 30 2 *", ""}, {"@every 1.5s", ""}, {"TZ=UTC * * * * *", ""}, {"0 0 0 29 2 *", "Asia/Kathmandu"},
	} {
		f.Add(c[0], c[1])
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec, tz string) {
		s, err := ParseSpec(spec, tz)
		if err != nil {
			if !errors.Is(err, ErrInvalidSchedule) {
				t.Fatalf("ParseSpec(%q, %q): error %v does not wrap ErrInvalidSchedule", spec, tz, err)
			}
			return
		}
		again, err := ParseSpec(s.Pattern, s.TimeZone)
		if err != nil || again.Pattern != s.Pattern || again.TimeZone != s.TimeZone || again.Every() != s.Every() {
			t.Fatalf("ParseSpec(%q, %q) = %+v, whose pattern parses to %+v, %v", spec, tz, s, again, err)
		}
		if next := s.Next(now); !next.IsZero() && !next.After(now) {
			t.Fatalf("%q: Next(%v) = %v", s.Pattern, now, next)
		}
		if prev := s.Prev(now); !prev.IsZero() && !prev.Before(now) {
			t.Fatalf("%q: Prev(%v) = %v", s.Pattern, now, prev)
		}
	})
}
