package activities

import (
	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/streams"
)

// CancelSubject is the core NATS subject on which the engine announces
// that a workflow gave up on an activity (its context was canceled): a
// worker executing that activity cancels the handler's context. The
// announcement is best effort (not stored): a worker that misses it runs
// the attempt to its end, and the engine ignores the late result.
//
//	cairn.<ns>.activity.cancel.<escaped workflow id>.<run>.<activity id>
func CancelSubject(names streams.Names, workflowID, run, activityID string) string {
	return "cairn." + names.Namespace() + ".activity.cancel." + names.InstanceKey(workflowID) + "." +
		streams.EscapeToken(run) + "." + streams.EscapeToken(activityID)
}

// watchCancel calls cancel when the engine announces the cancellation of
// the task's activity; the returned function stops watching.
func (ex *execution) watchCancel(cancel func()) func() {
	t := ex.task
	sub, err := ex.r.js.Conn().Subscribe(CancelSubject(ex.r.names, t.WorkflowID, t.Run, t.ActivityID), func(*nats.Msg) { cancel() })
	if err != nil {
		return func() {}
	}
	return func() { _ = sub.Unsubscribe() }
}
