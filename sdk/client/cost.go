package client

import (
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/cost"
)

// Cost is what a run consumed, counted from its history, with what the
// same execution would be billed on two managed services, so a user can
// compare. The mapping of cairn's events to the services' billing units is
// an estimate (docs/operations.md explains it):
//
//   - a state transition (Step Functions) is the start, each activity
//     attempt, each timer, step, child workflow and callback wait, and the
//     close: the states a Step Functions execution would enter;
//   - a durable operation (Lambda) is each recorded decision of the code
//     (activity, step, timer, child, callback, version marker, status), each
//     retried activity attempt, and each signal received.
type Cost struct {
	// WorkflowTasks counts the workflow tasks that committed (each ran the
	// code and appended one batch).
	WorkflowTasks int `json:"workflowTasks"`
	// StateTransitions counts Step Functions-style state transitions.
	StateTransitions int `json:"stateTransitions"`
	// DurableOperations counts Lambda durable functions-style operations.
	DurableOperations int `json:"durableOperations"`
	// ActivityAttempts counts activity attempts that ended or are running.
	ActivityAttempts int `json:"activityAttempts"`
	// ActiveCompute is the time spent running code: workflow tasks plus
	// activity handlers (as their workers reported it).
	ActiveCompute time.Duration `json:"activeCompute"`
	// Suspended is the rest of the run's wall-clock life so far: time it
	// waited on timers, people, signals or queues at no compute cost.
	Suspended time.Duration `json:"suspended"`
	// StepFunctionsUSD is StateTransitions at Step Functions Standard's
	// list price.
	StepFunctionsUSD float64 `json:"stepFunctionsUsd"`
	// LambdaDurableUSD is DurableOperations at Lambda durable functions'
	// list price (operations only, not the functions' compute).
	LambdaDurableUSD float64 `json:"lambdaDurableUsd"`
}

// costOf counts a run's consumption. open is what the run leaves open
// (running attempts count); taskTime is the workflow tasks' code time
// recorded with the history; end is the close time (zero: running, counted
// until now).
func costOf(batches []history.Batch, open *history.Open, taskTime time.Duration, start, end time.Time) *Cost {
	c := &Cost{ActiveCompute: taskTime}
	if len(batches) > 1 {
		c.WorkflowTasks = len(batches) - 1 // the first batch is the start, written by the client
	}
	c.StateTransitions = 1 // the start
	for _, b := range batches {
		for _, ev := range b {
			switch a := ev.Attributes.(type) {
			case *history.ActivityScheduled:
				c.StateTransitions++
				c.DurableOperations++
			case *history.ActivityRetrying:
				c.ActivityAttempts++
				c.StateTransitions++
				c.DurableOperations++
				c.ActiveCompute += a.Duration.D()
			case *history.ActivityCompleted:
				c.ActivityAttempts++
				c.ActiveCompute += a.Duration.D()
			case *history.ActivityFailed:
				if a.Attempt > 0 || a.Duration > 0 {
					c.ActivityAttempts++
				}
				c.ActiveCompute += a.Duration.D()
			case *history.TimerStarted, *history.StepCompleted, *history.ChildWorkflowScheduled, *history.CallbackStarted:
				c.StateTransitions++
				c.DurableOperations++
			case *history.VersionMarker, *history.StatusSet, *history.SearchAttributesUpserted:
				c.DurableOperations++
			case *history.SignalReceived, *history.CallbackCompleted, *history.CallbackFailed:
				c.DurableOperations++
			}
			if ev.IsClose() {
				c.StateTransitions++
			}
		}
	}
	c.ActivityAttempts += len(open.Activities)
	if end.IsZero() {
		end = time.Now()
	}
	if !start.IsZero() {
		if s := end.Sub(start) - c.ActiveCompute; s > 0 {
			c.Suspended = s
		}
	}
	c.StepFunctionsUSD = float64(c.StateTransitions) * cost.StepFunctionsStandardPerTransition
	c.LambdaDurableUSD = float64(c.DurableOperations) * cost.LambdaDurablePerOperation
	return c
}
