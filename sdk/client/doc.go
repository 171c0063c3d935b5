// Package client starts, inspects and controls workflows from any Go
// program: start (idempotent per workflow id), wait for a result, describe
// (with cost accounting), read history, signal, query, cancel, terminate,
// pause and resume, reset and redrive, list with search-attribute filters
// and pages, purge, and manage cron schedules. It talks to NATS directly
// and needs no worker to be running: a start is committed by the client
// itself and runs as soon as a worker for its task queue is available.
//
// Errors are sentinel values to match with errors.Is (ErrNotFound,
// ErrAlreadyExists, ...); a failed run's error is a *failure.WorkflowError
// to match with errors.As. Options are checked before anything is stored:
// an invalid one is an error wrapping ErrInvalidOption that names it.
//
// The types of the durable model that a client reads back are those of
// package history (events, batches, summaries, failures, search
// attributes) and, for schedules, of package schedules: they are what
// history exports, describe and list print, so the client shows them as
// they are stored rather than copying them. Everything else behind the
// client (storage, the engine) is internal.
package client
