package orchestrator

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
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

// HistorySizeError reports a run whose stored history would grow past the
// configured size: nothing is committed and the instance parks, like
// executor.HistoryLimitError for the event count.
type HistorySizeError struct {
	WorkflowID string
	Run        string
	Bytes      int64
	Limit      int64
}

func (e *HistorySizeError) Error() string {
	return fmt.Sprintf("workflow %q run %s: history would reach %d bytes, over the limit of %d; continue as new (workflow.NewContinueAsNewError) before that",
		e.WorkflowID, e.Run, e.Bytes, e.Limit)
}

// Failure is the serialized form stored in the instance summary.
func (e *HistorySizeError) Failure() *history.Failure {
	return &history.Failure{Type: executor.FailureHistoryLimit, Message: e.Error(), NonRetryable: true}
}
