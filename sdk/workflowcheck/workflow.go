package workflowcheck

import (
	"go/types"
)

// What the checker knows of the SDK, by import path only.
const (
	workflowPath   = "github.com/cairnhq/cairn/sdk/workflow"
	workflowWfPath = "github.com/cairnhq/cairn/sdk/internal/wf" // where workflow.Context is defined
)

// recordedArg maps the functions of package workflow that run a function
// argument as a recorded step to the index of that argument: its outcome
// is in history, so it may be non-deterministic.
var recordedArg = map[string]int{
	"Step":            2, // Step(ctx, name, fn)
	"SideEffect":      1, // SideEffect(ctx, fn)
	"WaitForCallback": 2, // WaitForCallback(ctx, name, submit, opts)
}

// isWorkflowContext reports whether t is workflow.Context (an alias of the
// SDK's internal context type, which it also recognises).
func isWorkflowContext(t types.Type) bool {
	if a, ok := t.(*types.Alias); ok && isObject(a.Obj(), workflowPath, "Context") {
		return true
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	return isObject(n.Obj(), workflowPath, "Context") || isObject(n.Obj(), workflowWfPath, "Context")
}

// isContextContext reports whether t is context.Context, the first
// parameter of activity functions.
func isContextContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && isObject(n.Obj(), "context", "Context")
}

func isObject(obj types.Object, pkgPath, name string) bool {
	return obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == pkgPath && obj.Name() == name
}

// firstParam returns the type of the first parameter of a function type,
// or nil.
func firstParam(t types.Type) types.Type {
	sig, ok := types.Unalias(t).Underlying().(*types.Signature)
	if !ok || sig.Params().Len() == 0 {
		return nil
	}
	return sig.Params().At(0).Type()
}

// isWorkflowFunc reports whether a function of type t is workflow code:
// its first parameter is a workflow.Context.
func isWorkflowFunc(t types.Type) bool {
	p := firstParam(t)
	return p != nil && isWorkflowContext(p)
}

// isActivityFunc reports whether a function of type t has the shape of an
// activity: its first parameter is a context.Context.
func isActivityFunc(t types.Type) bool {
	p := firstParam(t)
	return p != nil && isContextContext(p)
}

// recordedArgIndex returns the index of the argument of fn that runs as a
// recorded step, or -1.
func recordedArgIndex(fn *types.Func) int {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != workflowPath {
		return -1
	}
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
		return -1
	}
	if i, ok := recordedArg[fn.Name()]; ok {
		return i
	}
	return -1
}
