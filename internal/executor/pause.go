package executor

import "github.com/cairnhq/cairn/history"

// Pause semantics. While a run is paused its code does not run: events
// that arrive are recorded in history and fed to the run's state (a result
// resolves its future, a fired timer its timer) but nothing reads them
// until WorkflowResumed, when the code runs once over all of them, in the
// order they came. A cancel request is held back until the resume, since
// applying it would make the engine record cancellations on the code's
// behalf while it is supposed to be still. Terminate and the execution
// timeout still close a paused run. Replay follows the same rules from the
// recorded events, so a paused stretch replays exactly as it ran.

// Paused reports whether the run is paused.
func (in *Instance) Paused() bool { return in.paused }

// acceptPause decides whether a pause or resume changes anything.
func (in *Instance) acceptPause(ev *history.Event) *history.Event {
	switch ev.Type {
	case history.TypeWorkflowPaused:
		if in.paused {
			return nil
		}
	case history.TypeWorkflowResumed:
		if !in.paused {
			return nil
		}
	}
	return ev
}

// record feeds a recorded non-command event to the run, honouring a pause.
// It returns whether the code has something new to look at.
func (in *Instance) record(ev *history.Event) (wake bool, err error) {
	switch ev.Type {
	case history.TypeWorkflowPaused:
		in.paused = true
		return false, nil
	case history.TypeWorkflowResumed:
		in.paused = false
		if held := in.heldCancel; held != nil {
			in.heldCancel = nil
			if err := in.safeApply(held); err != nil {
				return false, err
			}
		}
		return true, nil
	case history.TypeWorkflowCancelRequested:
		if in.paused {
			in.heldCancel = ev
			return false, nil
		}
	}
	if err := in.safeApply(ev); err != nil {
		return false, err
	}
	return !in.paused, nil
}
