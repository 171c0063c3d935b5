package schedules

import "time"

// fire is one fire message, as the runner understood it.
type fire struct {
	// Nominal is the fire time the message stands for.
	Nominal time.Time
	// Next is the server's next fire time (zero for a manual fire).
	Next time.Time
	// Manual fires come from TriggerSchedule: they start (subject to the
	// overlap policy) whatever the catch-up policy, and do not move
	// LastFire.
	Manual bool
}

// decide computes what a fire does: the new state and the fire times to
// start, in order. running tells whether the schedule's latest start
// (State.Running) is still running. ok is false when the fire is a
// duplicate or older than the last processed one: nothing changes.
//
// It is a pure function of its inputs, so a decision lost to a
// compare-and-set conflict is simply recomputed from the newer state.
func decide(s *Schedule, spec Spec, f fire, running bool, now time.Time) (st State, starts []time.Time, ok bool) {
	st = s.State.clone()
	if !f.Manual && !f.Nominal.After(st.LastFire) {
		return st, nil, false
	}
	st.Started = nil
	// A start buffered behind a run that has closed goes first: it was
	// due before this fire.
	if t, ok := drainBuffered(s, &st, running, now); ok {
		starts = append(starts, t)
		running = true
	}

	var take []time.Time
	if f.Manual {
		take = []time.Time{f.Nominal}
	} else {
		window := s.Window()
		var missed []time.Time
		if !st.LastFire.IsZero() {
			notBefore := time.Time{}
			if s.CatchUp == CatchUpAll {
				notBefore = now.Add(-window)
			}
			missed = spec.Between(st.LastFire, f.Nominal, notBefore, MaxCatchUp)
			if s.CatchUp == CatchUpAll {
				take = missed
				// Those outside the window are counted, not listed.
				st.Missed += int64(len(spec.Between(st.LastFire, f.Nominal, time.Time{}, MaxCatchUp)) - len(missed))
				missed = nil
			}
		}
		for _, t := range missed {
			st.Missed++
			st.record(Outcome{Fire: t, Result: OutcomeMissed, At: now})
		}
		// A fire whose next fire time has passed is superseded: a newer
		// fire is queued behind it (the runners were behind or down).
		superseded := !f.Next.IsZero() && !f.Next.After(now)
		late := now.Sub(f.Nominal) > window
		var current bool
		switch s.CatchUp {
		case CatchUpNone:
			current = !late && !superseded
		case CatchUpAll:
			current = !late
		default: // CatchUpLatest
			current = !superseded
		}
		if current {
			take = append(take, f.Nominal)
		} else {
			st.Missed++
			st.record(Outcome{Fire: f.Nominal, Result: OutcomeMissed, At: now})
		}
		st.LastFire = f.Nominal
		st.NextFire = f.Next
	}

	for _, t := range take {
		if running && s.Overlap != OverlapAllowAll {
			if s.Overlap == OverlapBufferOne && st.Buffered == nil {
				b := t
				st.Buffered = &b
				st.record(Outcome{Fire: t, Result: OutcomeBuffered, Manual: f.Manual, At: now})
				continue
			}
			st.Skips++
			st.record(Outcome{Fire: t, Result: OutcomeSkipped, Manual: f.Manual, At: now})
			continue
		}
		id := s.WorkflowID(t)
		st.Running = id
		st.Started = append(st.Started, id)
		st.Starts++
		st.record(Outcome{Fire: t, Result: OutcomeStarted, WorkflowID: id, Manual: f.Manual, At: now})
		starts = append(starts, t)
		running = true
	}
	return st, starts, true
}

// drainBuffered moves a buffered fire time into a start when the run it
// waited for is no longer running. It updates st and reports the fire time
// to start.
func drainBuffered(s *Schedule, st *State, running bool, now time.Time) (time.Time, bool) {
	if st.Buffered == nil || running {
		return time.Time{}, false
	}
	t := *st.Buffered
	st.Buffered = nil
	id := s.WorkflowID(t)
	st.Running = id
	st.Started = append(st.Started, id)
	st.Starts++
	st.record(Outcome{Fire: t, Result: OutcomeStarted, WorkflowID: id, At: now})
	return t, true
}
