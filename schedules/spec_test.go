package schedules

import (
	"errors"
	"testing"
	"time"
)

func TestParseSpecValid(t *testing.T) {
	for _, tc := range []struct {
		spec, tz, pattern string
	}{
		{"@every 1s", "", "@every 1s"},
		{"@every 90m", "", "@every 1h30m0s"},
		{"*/2 * * * * *", "", "*/2 * * * * *"},
		{"*/5 * * * *", "", "0 */5 * * * *"},
		{"0 30 9 * * MON-FRI", "Europe/Paris", "0 30 9 * * MON-FRI"},
		{"@daily", "America/New_York", "@daily"},
		{"@hourly", "", "@hourly"},
	} {
		s, err := ParseSpec(tc.spec, tc.tz)
		if err != nil {
			t.Errorf("ParseSpec(%q, %q): %v", tc.spec, tc.tz, err)
			continue
		}
		if s.Pattern != tc.pattern || s.TimeZone != tc.tz {
			t.Errorf("ParseSpec(%q): pattern %q tz %q, want %q %q", tc.spec, s.Pattern, s.TimeZone, tc.pattern, tc.tz)
		}
	}
}

func TestParseSpecInvalid(t *testing.T) {
	for _, tc := range []struct{ spec, tz string }{
		{"", ""},
		{"@every 500ms", ""},
		{"@every 1500ms", ""},
		{"@every soon", ""},
		{"@every 1m", "Europe/Paris"},
		{"@in 5s", ""},
		{"@at 2030-01-01T00:00:00Z", ""},
		{"* * * *", ""},
		{"* * * * * * *", ""},
		{"61 * * * * *", ""},
		{"0 0 0 30 2 *", ""}, // never
		{"0 * * * * *", "Mars/Olympus"},
		{"CRON_TZ=UTC 0 * * * * *", ""},
	} {
		if _, err := ParseSpec(tc.spec, tc.tz); !errors.Is(err, ErrInvalidSchedule) {
			t.Errorf("ParseSpec(%q, %q) = %v, want ErrInvalidSchedule", tc.spec, tc.tz, err)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNominalAndBetween(t *testing.T) {
	hourly, err := ParseSpec("0 0 * * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	// The server fired the 12:00 slot and says the next is 13:00.
	if got := hourly.Nominal(mustTime(t, "2026-03-01T13:00:00Z")); !got.Equal(mustTime(t, "2026-03-01T12:00:00Z")) {
		t.Errorf("nominal %v", got)
	}
	// After a restart at 12:20 the server computes the next from now.
	if got := hourly.Nominal(mustTime(t, "2026-03-01T13:00:00Z")); !got.Equal(mustTime(t, "2026-03-01T12:00:00Z")) {
		t.Errorf("nominal %v", got)
	}
	got := hourly.Between(mustTime(t, "2026-03-01T08:00:00Z"), mustTime(t, "2026-03-01T12:00:00Z"), time.Time{}, 10)
	want := []string{"2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"}
	if len(got) != len(want) {
		t.Fatalf("between: %v", got)
	}
	for i := range want {
		if !got[i].Equal(mustTime(t, want[i])) {
			t.Errorf("between[%d] = %v, want %s", i, got[i], want[i])
		}
	}
	// Capped to the newest, and bounded below.
	if got := hourly.Between(mustTime(t, "2026-03-01T08:00:00Z"), mustTime(t, "2026-03-01T12:00:00Z"), time.Time{}, 1); len(got) != 1 || !got[0].Equal(mustTime(t, "2026-03-01T11:00:00Z")) {
		t.Errorf("capped: %v", got)
	}
	if got := hourly.Between(mustTime(t, "2026-03-01T08:00:00Z"), mustTime(t, "2026-03-01T12:00:00Z"), mustTime(t, "2026-03-01T10:30:00Z"), 10); len(got) != 1 {
		t.Errorf("not before: %v", got)
	}

	yearly, _ := ParseSpec("@yearly", "")
	if got := yearly.Prev(mustTime(t, "2027-01-01T00:00:00Z")); !got.Equal(mustTime(t, "2026-01-01T00:00:00Z")) {
		t.Errorf("yearly prev %v", got)
	}
	paris, _ := ParseSpec("0 30 9 * * *", "Europe/Paris")
	if got := paris.Prev(mustTime(t, "2026-07-01T12:00:00Z")); !got.Equal(mustTime(t, "2026-07-01T07:30:00Z")) {
		t.Errorf("paris prev %v", got)
	}

	every, _ := ParseSpec("@every 10s", "")
	got = every.Between(mustTime(t, "2026-03-01T00:00:00Z"), mustTime(t, "2026-03-01T00:00:35Z"), time.Time{}, 10)
	if len(got) != 3 || !got[2].Equal(mustTime(t, "2026-03-01T00:00:30Z")) {
		t.Errorf("every between: %v", got)
	}
}
