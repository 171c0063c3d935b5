// Package orchestrator runs workflow tasks: it consumes the inbox of a task
// queue, keeps live instances in a bounded cache (sticky execution), replays
// instances from history on a miss, and commits each task with the protocol
// below. It is the only writer of history besides the start and terminate
// calls of clients, which use the same conditional append.
//
// # Many workers on one queue
//
// A queue's inbox is split into partitions, each pulled by one worker at a
// time: the server pins each partition's consumer to one puller, and the
// queue's workers agree on who pulls what by announcing themselves
// (partitions.go). A worker that dies loses its pins within seconds; one
// that stops hands them over at once. Correctness never rests on that
// agreement: a copy of an instance that another worker moved on is caught
// by the conditional append when it appends, and is never trusted to drop
// a message it cannot place (stale.go).
//
// # Commit protocol
//
// A workflow task for instance X (task, in task.go) runs in phases, each a
// function named for it, in a file named for it; taskState carries what
// flows between them:
//
//  1. the inbox messages pending for X are taken and parsed (parseItems;
//     the consumer is filtered on the queue's inbox subjects only, never on
//     timer schedules);
//  2. resolve: gets X from the cache (unless the copy predates this
//     worker's hold on X's partition, or cannot place a message while
//     history has moved on), or builds a new run from its start
//     wake, or loads its history with direct gets and replays it; start
//     wakes complete the starts their clients left unfinished;
//  3. control: holds back early reset wakes and drops messages for an
//     instance without history; re-emits the commands of a loaded
//     instance's last batch (they may not have gone out before a crash;
//     every command is idempotent), or only the close commands of a closed
//     run; dispatches reset and terminated wakes; keeps the events of the
//     current run for the code (the executor drops what history already
//     reflects: an activity already closed, a timer already fired);
//  4. execute: runs the workflow code until every coroutine blocks;
//  5. commit: appends ONE history message holding the task's events,
//     expecting the last sequence it knows for X
//     (Nats-Expected-Last-Subject-Sequence); on a conflict it evicts X and
//     redelivers the messages; past the history limits it parks X;
//  6. emitCommands: derives the batch's commands (commandsOf, a pure
//     function of the batch and the run: activity tasks, timer schedules,
//     purges, child starts, notices, retention, the summary) and sends them
//     with deterministic message ids, waiting for their acknowledgements
//     (sendCommands); execute, commit and emitCommands repeat while code
//     awaits its decisions' commit;
//  7. acknowledge: acknowledges the inbox messages, once the summary writes
//     the batches need are done.
//
// Invariant: the commands of every committed batch except possibly the
// last have been published. A crash at any step therefore loses nothing
// and duplicates no history event; activities stay at-least-once and a
// duplicate result is ignored because history already closed the activity.
//
// Everything durable goes through internal/store (the storage seam): the
// orchestrator never builds a history or inbox message itself.
//
// The package imports history, streams, activities, timers, internal/store,
// internal/executor and the NATS client. The SDK's worker imports it; it
// imports no SDK package, and no client-side package imports it.
package orchestrator
