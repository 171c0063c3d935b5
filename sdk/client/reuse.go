package client

import (
	"fmt"

	"github.com/cairnhq/cairn/internal/optcheck"
	"github.com/cairnhq/cairn/internal/store"
)

// WorkflowIDReusePolicy decides whether a workflow id whose last run is
// closed may start again (Temporal's policy of the same name). Whatever the
// policy, starting an id whose run is still open returns that run.
type WorkflowIDReusePolicy int

// The reuse policies. The zero value is WorkflowIDReusePolicyAllowDuplicate.
const (
	// WorkflowIDReusePolicyAllowDuplicate lets a closed id start a new run,
	// however its last run closed.
	WorkflowIDReusePolicyAllowDuplicate WorkflowIDReusePolicy = iota
	// WorkflowIDReusePolicyAllowDuplicateFailedOnly lets a closed id start
	// a new run only if its last run did not complete (it failed, was
	// canceled, terminated or timed out).
	WorkflowIDReusePolicyAllowDuplicateFailedOnly
	// WorkflowIDReusePolicyRejectDuplicate never starts an id again once a
	// run of it closed: the start fails with ErrAlreadyExists.
	WorkflowIDReusePolicyRejectDuplicate
)

// String returns the policy's name as the CLI spells it ("allow",
// "failed-only", "reject").
func (p WorkflowIDReusePolicy) String() string {
	switch p {
	case WorkflowIDReusePolicyAllowDuplicate:
		return "allow"
	case WorkflowIDReusePolicyAllowDuplicateFailedOnly:
		return "failed-only"
	case WorkflowIDReusePolicyRejectDuplicate:
		return "reject"
	}
	return fmt.Sprintf("WorkflowIDReusePolicy(%d)", int(p))
}

// ParseWorkflowIDReusePolicy reads a policy by the name String gives it.
// An unknown name returns an error wrapping ErrInvalidOption.
func ParseWorkflowIDReusePolicy(s string) (WorkflowIDReusePolicy, error) {
	for _, p := range []WorkflowIDReusePolicy{WorkflowIDReusePolicyAllowDuplicate,
		WorkflowIDReusePolicyAllowDuplicateFailedOnly, WorkflowIDReusePolicyRejectDuplicate} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, optcheck.Invalid("WorkflowIDReusePolicy", s, "must be allow, failed-only or reject")
}

// store converts the policy to the store's.
func (p WorkflowIDReusePolicy) store() (store.ReusePolicy, error) {
	switch p {
	case WorkflowIDReusePolicyAllowDuplicate:
		return store.AllowDuplicate, nil
	case WorkflowIDReusePolicyAllowDuplicateFailedOnly:
		return store.AllowDuplicateFailedOnly, nil
	case WorkflowIDReusePolicyRejectDuplicate:
		return store.RejectDuplicate, nil
	}
	return 0, optcheck.Invalid("StartOptions.WorkflowIDReusePolicy", int(p), "unknown policy")
}
