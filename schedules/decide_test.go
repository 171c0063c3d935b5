package schedules

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	spec, err := ParseSpec("@every 1m", "")
	if err != nil {
		t.Fatal(err)
	}
	t0 := mustTime(t, "2026-03-01T10:00:00Z")
	base := func(overlap OverlapPolicy, catchUp CatchUpPolicy) *Schedule {
		s := &Schedule{ID: "s", Spec: "@every 1m", Action: Action{WorkflowType: "W"}, Overlap: overlap, CatchUp: catchUp}
		if _, err := s.Normalize(); err != nil {
			t.Fatal(err)
		}
		s.State.LastFire = t0
		return s
	}
	onTime := func(n time.Time) fire { return fire{Nominal: n, Next: n.Add(time.Minute)} }

	t.Run("duplicate", func(t *testing.T) {
		_, starts, ok := decide(base(OverlapSkip, CatchUpLatest), spec, onTime(t0), false, t0)
		if ok || starts != nil {
			t.Fatalf("duplicate fire decided %v", starts)
		}
	})
	t.Run("skip", func(t *testing.T) {
		s := base(OverlapSkip, CatchUpLatest)
		st, starts, _ := decide(s, spec, onTime(t0.Add(time.Minute)), true, t0.Add(time.Minute))
		if len(starts) != 0 || st.Skips != 1 || st.Recent[0].Result != OutcomeSkipped {
			t.Fatalf("skip: starts %v state %+v", starts, st)
		}
	})
	t.Run("buffer one", func(t *testing.T) {
		s := base(OverlapBufferOne, CatchUpLatest)
		now := t0.Add(time.Minute)
		st, starts, _ := decide(s, spec, onTime(now), true, now)
		if len(starts) != 0 || st.Buffered == nil || !st.Buffered.Equal(now) {
			t.Fatalf("buffer: starts %v state %+v", starts, st)
		}
		s.State = st
		st, starts, _ = decide(s, spec, onTime(now.Add(time.Minute)), true, now.Add(time.Minute))
		if len(starts) != 0 || st.Skips != 1 || !st.Buffered.Equal(now) {
			t.Fatalf("second while buffered: starts %v state %+v", starts, st)
		}
		// The run closed: the buffered one starts first, then this fire is
		// buffered behind it.
		s.State = st
		later := now.Add(2 * time.Minute)
		st, starts, _ = decide(s, spec, onTime(later), false, later)
		if len(starts) != 1 || !starts[0].Equal(now) || st.Buffered == nil || !st.Buffered.Equal(later) {
			t.Fatalf("drain: starts %v state %+v", starts, st)
		}
	})
	t.Run("allow all", func(t *testing.T) {
		st, starts, _ := decide(base(OverlapAllowAll, CatchUpLatest), spec, onTime(t0.Add(time.Minute)), true, t0.Add(time.Minute))
		if len(starts) != 1 || st.Running != "s-2026-03-01T10:01:00Z" || st.Started[0] != st.Running {
			t.Fatalf("allow all: starts %v state %+v", starts, st)
		}
	})

	// Down from 10:00 to 10:05:30; the server fires once with its own time.
	gap := fire{Nominal: t0.Add(5*time.Minute + 30*time.Second), Next: t0.Add(6*time.Minute + 30*time.Second)}
	now := gap.Nominal.Add(time.Second)
	for _, tc := range []struct {
		policy         CatchUpPolicy
		starts, missed int
	}{
		{CatchUpLatest, 1, 5},
		{CatchUpAll, 6, 0},
		{CatchUpNone, 1, 5}, // the restart fire itself is on time
	} {
		st, starts, _ := decide(base(OverlapAllowAll, tc.policy), spec, gap, false, now)
		if len(starts) != tc.starts || st.Missed != int64(tc.missed) || !st.LastFire.Equal(gap.Nominal) {
			t.Errorf("catch-up %s: %d starts, %d missed, last %v; want %d, %d", tc.policy, len(starts), st.Missed, st.LastFire, tc.starts, tc.missed)
		}
	}
	// A queued fire whose successor is due already is superseded, and a
	// late one is dropped by none but run by latest.
	queued := fire{Nominal: t0.Add(time.Minute), Next: t0.Add(2 * time.Minute)}
	late := t0.Add(2*time.Hour + time.Minute)
	for _, tc := range []struct {
		policy CatchUpPolicy
		f      fire
		now    time.Time
		starts int
	}{
		{CatchUpLatest, queued, t0.Add(3 * time.Minute), 0},
		{CatchUpAll, queued, t0.Add(3 * time.Minute), 1},
		{CatchUpNone, queued, t0.Add(3 * time.Minute), 0},
		{CatchUpLatest, fire{Nominal: t0.Add(time.Hour), Next: late.Add(time.Hour)}, late, 1},
		{CatchUpNone, fire{Nominal: t0.Add(time.Hour), Next: late.Add(time.Hour)}, late, 0},
	} {
		_, starts, _ := decide(base(OverlapAllowAll, tc.policy), spec, tc.f, false, tc.now)
		if len(starts) != tc.starts {
			t.Errorf("%s fire %v at %v: %d starts, want %d", tc.policy, tc.f.Nominal, tc.now, len(starts), tc.starts)
		}
	}
}
