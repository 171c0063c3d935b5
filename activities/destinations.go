package activities

import (
	"fmt"

	"github.com/cairnhq/cairn/streams"
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
	_, id, sender, err := r.names.InboxSenderOf(t.Reply)
	if err != nil {
		return fmt.Errorf("%w: header %s is not an inbox subject of namespace %q: %w", ErrMalformedTask, HeaderReply,
			r.names.Namespace(), err)
	}
	if id != t.WorkflowID {
		return fmt.Errorf("%w: header %s %q is the inbox of workflow %q, not of %q", ErrMalformedTask, HeaderReply, t.Reply, id, t.WorkflowID)
	}
	// Engines before sender subjects replied on the engine's own subject;
	// their tasks may still be queued.
	if sender != streams.SenderActivity && sender != streams.SenderEngine {
		return fmt.Errorf("%w: header %s %q is the inbox of %s senders, not of activity workers", ErrMalformedTask, HeaderReply, t.Reply, sender)
	}
	if t.AttemptTimer != "" {
		want := r.names.AttemptTimerSubject(t.WorkflowID, t.Run, t.ActivityID, t.Attempt)
		if t.AttemptTimer != want && t.AttemptTimer != r.names.LegacyAttemptTimerSubject(t.WorkflowID, t.Run, t.ActivityID, t.Attempt) {
			return fmt.Errorf("%w: header %s %q is not the timer of this attempt, %q", ErrMalformedTask, HeaderAttemptTimer, t.AttemptTimer, want)
		}
	}
	return nil
}
