// Package wf binds the public workflow API (sdk/workflow) to the executor:
// the Context implementation and the adapter that turns a user's typed
// workflow function into an executor.WorkflowFunc. It is internal so the
// public packages stay thin; sdk/workflow, sdk/worker and testenv import
// it.
package wf
