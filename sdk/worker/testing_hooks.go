package worker

import (
	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/internal/wf"
)

// AdaptWorkflow returns fn, a func(workflow.Context, In) (Out, error) or
// func(workflow.Context, In) error, in the engine's form, decoding its input
// and encoding its result with dc (converter.JSON() when nil): exactly what
// RegisterWorkflow registers. It exists for cairn's own tooling (testenv's
// time-skipping environment and replayer), which runs workflow code without
// a Worker; applications register workflows on a Worker instead.
func AdaptWorkflow(fn any, dc converter.DataConverter) (executor.WorkflowFunc, error) {
	if dc == nil {
		dc = converter.JSON()
	}
	return wf.Adapt(fn, dc)
}

// AdaptActivity returns fn, a func(context.Context, In) (Out, error) or
// func(context.Context, In) error, as the handler RegisterActivity would
// run, with the same input, output and error mapping. Like AdaptWorkflow it
// is meant for tooling that runs activities without a Worker.
func AdaptActivity(fn any, dc converter.DataConverter) (activities.Handler, error) {
	if dc == nil {
		dc = converter.JSON()
	}
	return adaptActivity(fn, dc)
}
