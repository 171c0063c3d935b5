// Package executor runs workflow code against a run's history: it is the
// deterministic heart of the orchestrator.
//
// An Instance holds one live run: its coroutines (internal/coro), its pending
// activities and timers, and its position in history. Replay feeds it the
// committed batches; Execute feeds it new inbound events, runs the code until
// every coroutine blocks, and returns the next batch to commit. Every command
// the code issues is matched, on replay, against the command recorded at the
// same position; a mismatch stops the instance with a NonDeterminismError and
// never produces a batch, so history is never corrupted by changed code.
//
// The package imports history, internal/coro and the standard library. The
// SDK (sdk/workflow) builds the user-facing API on Ctx; the orchestrator
// drives Instances. Nothing here touches NATS.
package executor
