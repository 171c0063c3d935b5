// Package act is the machinery behind sdk/activity and sdk/worker: the
// adapters that turn a typed activity function into an activities.Handler,
// the derivation of activity and workflow type names from functions, and
// the in-process activity context testenv runs activities under. It is
// internal so the public packages stay thin; sdk/activity, sdk/workflow,
// sdk/worker, sdk/client and testenv import it.
package act
