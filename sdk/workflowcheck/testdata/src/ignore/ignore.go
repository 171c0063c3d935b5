// Package ignore checks the //workflowcheck:ignore directive.
package ignore

import (
	"time"

	"github.com/cairnhq/cairn/sdk/workflow"
)

func Workflow(ctx workflow.Context, m map[string]bool) {
	_ = time.Now() //workflowcheck:ignore only logged, never decides anything

	//workflowcheck:ignore the keys are counted, order does not matter
	for range m {
	}

	//workflowcheck:ignore

	_ = time.Now() // want `time\.Now in workflow Workflow`
	_ = time.Now() //workflowcheck:ignored is not the directive // want `time\.Now in workflow Workflow`
}
