// Package orchestrator runs workflow tasks: it consumes the inbox of a task
// queue, keeps live instances in a bounded cache (sticky execution), replays
// instances from history on a miss, and commits each task with the protocol
// below. It is the only writer of history besides the start and terminate
// calls of clients, which use the same conditional append.
//
// # Commit protocol
//
// A workflow task for instance X:
//
//  1. takes the inbox messages pending for X (the consumer is filtered on the
//     queue's inbox subjects only, never on timer schedules);
//  2. gets X from the cache or loads its history with direct gets and
//     replays it, then re-emits the commands of its last batch (they may not
//     have gone out before a crash; every emission is idempotent);
//  3. drops messages the history already reflects (an activity already
//     closed, a timer already fired, a start already committed);
//  4. runs the workflow code until every coroutine blocks;
//  5. appends ONE history message holding the task's events, expecting the
//     last sequence it knows for X (Nats-Expected-Last-Subject-Sequence); on
//     a conflict it evicts X and redelivers the messages;
//  6. publishes the commands (activity tasks, timer schedules, purges) with
//     deterministic message ids and waits for their acknowledgements;
//  7. acknowledges the inbox messages.
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
