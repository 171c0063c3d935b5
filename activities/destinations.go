package activities

import (
	"fmt"
)

// checkDestinations refuses a task whose reply or attempt timer subject is
// not the one the engine derives for the attempt the task names. A worker
// publishes only where an attempt's outcome belongs: the inbox of the
// task's workflow, in the worker's own namespace, and that attempt's timer.
// A task that names anything else (another workflow's history, another
// namespace, a subject outside cairn's) was not written by the engine, and
// running it would let whoever wrote it make a worker publish anywhere its
// credentials allow.
func (r *Runner) checkDestinations(t *Task) error {
	if ns := r.names.Namespace(); t.Namespace != ns {
		return fmt.Errorf("%w: header %s is %q; this worker serves namespace %q", ErrMalformedTask, HeaderNamespace, t.Namespace, ns)
	}
	_, id, err := r.names.ParseInboxSubject(t.Reply)
	if err != nil {
		return fmt.Errorf("%w: header %s is not an inbox subject of namespace %q: %w", ErrMalformedTask, HeaderReply,
			r.names.Namespace(), err)
	}
	if id != t.WorkflowID {
		return fmt.Errorf("%w: header %s %q is the inbox of workflow %q, not of %q", ErrMalformedTask, HeaderReply, t.Reply, id, t.WorkflowID)
	}
	if t.AttemptTimer != "" {
		if want := r.names.AttemptTimerSubject(t.WorkflowID, t.Run, t.ActivityID, t.Attempt); t.AttemptTimer != want {
			return fmt.Errorf("%w: header %s %q is not the timer of this attempt, %q", ErrMalformedTask, HeaderAttemptTimer, t.AttemptTimer, want)
		}
	}
	return nil
}
