package orchestrator

import (
	"hash/fnv"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
)

// continueAsNewCommand is the start wake of the run that a closed run
// continues as: the same conditional start a client makes, expecting the
// closing batch as the instance's head, so it happens once however often it
// is re-emitted. The new run's start batch carries the events the old run
// had not taken.
func continueAsNewCommand(names streams.Names, id string, head *store.Head, parent *history.ParentInfo, at time.Time,
	a *history.WorkflowContinuedAsNew) command {
	h := fnv.New64a()
	h.Write([]byte(id + "/" + a.NextRun))
	batch := history.Batch{{Seq: 1, Time: at, Type: history.TypeWorkflowStarted, Attributes: &history.WorkflowStarted{
		WorkflowType: head.WorkflowType, WorkflowID: id, Run: a.NextRun, TaskQueue: head.TaskQueue,
		Input: a.Input, RandomSeed: h.Sum64(), Parent: parent, SearchAttributes: a.SearchAttributes, Memo: a.Memo}}}
	for i, s := range a.Events {
		batch = append(batch, &history.Event{Seq: int64(i + 2), Time: at, Type: history.TypeSignalReceived, Attributes: s})
	}
	wake, err := store.NewStartWake(names.InboxSubject(head.TaskQueue, id), names.InstanceKey(id), a.NextRun, head.Seq, batch)
	return command{kind: cmdContinueAsNew, msg: wake, err: err}
}
