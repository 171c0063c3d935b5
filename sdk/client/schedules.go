package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/optcheck"
	"github.com/cairnhq/cairn/schedules"
)

// Schedule errors. Match with errors.Is.
var (
	// ErrInvalidSchedule: a malformed spec, time zone or policy.
	ErrInvalidSchedule = schedules.ErrInvalidSchedule
	// ErrScheduleNotFound: no schedule with that id.
	ErrScheduleNotFound = schedules.ErrNotFound
	// ErrScheduleExists: CreateSchedule of an id already used.
	ErrScheduleExists = schedules.ErrExists
)

// Schedule policies, re-exported for ScheduleOptions.
type (
	// OverlapPolicy decides what a fire does while the previous start runs.
	OverlapPolicy = schedules.OverlapPolicy
	// CatchUpPolicy decides which fire times missed during an outage run.
	CatchUpPolicy = schedules.CatchUpPolicy
	// ScheduleDescription is a schedule's definition and state.
	ScheduleDescription = schedules.Schedule
)

// Overlap and catch-up policies (see package schedules).
const (
	OverlapSkip      = schedules.OverlapSkip
	OverlapBufferOne = schedules.OverlapBufferOne
	OverlapAllowAll  = schedules.OverlapAllowAll
	CatchUpNone      = schedules.CatchUpNone
	CatchUpLatest    = schedules.CatchUpLatest
	CatchUpAll       = schedules.CatchUpAll
)

// ScheduleOptions describe a schedule to create.
type ScheduleOptions struct {
	// ID names the schedule (any UTF-8 string up to 200 bytes).
	ID string
	// Spec is when it fires: "@every 1h" (whole seconds, at least 1s), a
	// 6-field cron "sec min hour dom mon dow", a 5-field cron "min hour dom
	// mon dow" (at second 0), or @hourly, @daily, @weekly, @monthly,
	// @yearly.
	Spec string
	// TimeZone is the IANA zone cron specs are evaluated in (default UTC).
	TimeZone string
	// Workflow is the workflow function, or its registered name.
	Workflow any
	// Input is the input of every run.
	Input any
	// TaskQueue routes the runs (default "default").
	TaskQueue string
	// WorkflowIDPrefix is prepended to the fire time (RFC 3339, UTC) to
	// make each run's workflow id; default "<ID>-".
	WorkflowIDPrefix string
	// WorkflowExecutionTimeout bounds every run, as
	// StartOptions.WorkflowExecutionTimeout does (0 = no bound).
	WorkflowExecutionTimeout time.Duration
	// Memo is shown by describe.
	Memo any
	// Overlap is what a fire does while the previous run is running
	// (default OverlapSkip).
	Overlap OverlapPolicy
	// CatchUp is which fire times missed during an outage still run
	// (default CatchUpLatest: one run for the whole gap).
	CatchUp CatchUpPolicy
	// CatchUpWindow is how old a fire time may be and still run (default
	// one hour).
	CatchUpWindow time.Duration
	// Paused creates the schedule paused.
	Paused bool
	// Note is free text shown by describe.
	Note string
}

// CreateSchedule creates a schedule that starts a workflow at every fire.
// Every start is idempotent: its workflow id is the prefix plus the fire
// time, and a closed id is never started again. The workflow type must have
// been registered on the task queue (ErrUnknownWorkflowType); an id already
// used fails with ErrScheduleExists, a bad spec with ErrInvalidSchedule.
func (c *Client) CreateSchedule(ctx context.Context, opts ScheduleOptions) (*ScheduleDescription, error) {
	name, err := workflowName(opts.Workflow)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ScheduleOptions.WorkflowExecutionTimeout", opts.WorkflowExecutionTimeout}, {"ScheduleOptions.CatchUpWindow", opts.CatchUpWindow}} {
		if err := optcheck.NotNegative(d.name, d.v); err != nil {
			return nil, fmt.Errorf("%w: schedule %q: %w", ErrInvalidArgument, opts.ID, err)
		}
	}
	input, err := c.opts.dc.ToPayload(opts.Input)
	if err != nil {
		return nil, fmt.Errorf("%w: schedule %q: %w", ErrInvalidInput, opts.ID, err)
	}
	if len(input) > c.opts.maxPayload {
		return nil, fmt.Errorf("%w: schedule %q: input is %d bytes, the limit is %d", ErrPayloadTooLarge, opts.ID, len(input), c.opts.maxPayload)
	}
	var memo json.RawMessage
	if opts.Memo != nil {
		if memo, err = c.opts.dc.ToPayload(opts.Memo); err != nil {
			return nil, fmt.Errorf("%w: schedule %q: memo: %w", ErrInvalidArgument, opts.ID, err)
		}
	}
	sch := &schedules.Schedule{
		ID: opts.ID, Spec: opts.Spec, TimeZone: opts.TimeZone,
		Action: schedules.Action{WorkflowType: name, TaskQueue: opts.TaskQueue, Input: input,
			WorkflowIDPrefix: opts.WorkflowIDPrefix, ExecutionTimeout: history.Duration(opts.WorkflowExecutionTimeout), Memo: memo},
		Overlap: opts.Overlap, CatchUp: opts.CatchUp, CatchUpWindow: history.Duration(opts.CatchUpWindow),
		Paused: opts.Paused, Note: opts.Note,
	}
	// Validate before the registry lookup, so a bad spec is reported as
	// such whatever the workflow type.
	if _, err := sch.Normalize(); err != nil {
		return nil, err
	}
	if err := c.checkType(ctx, sch.Action.TaskQueue, name); err != nil {
		return nil, fmt.Errorf("schedule %q: %w", opts.ID, err)
	}
	st, err := c.scheduleStore(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.Create(ctx, sch); err != nil {
		return nil, err
	}
	return sch, nil
}

// DescribeSchedule returns a schedule's definition and state: its counters
// of starts, skips and missed fires, the running start, a buffered start,
// and its latest outcomes.
func (c *Client) DescribeSchedule(ctx context.Context, id string) (*ScheduleDescription, error) {
	st, err := c.scheduleStore(ctx)
	if err != nil {
		return nil, err
	}
	return st.Get(ctx, id)
}

// ListSchedules returns every schedule of the namespace, sorted by id.
func (c *Client) ListSchedules(ctx context.Context) ([]*ScheduleDescription, error) {
	st, err := c.scheduleStore(ctx)
	if err != nil {
		return nil, err
	}
	return st.List(ctx)
}

// PauseSchedule stops a schedule from firing until UnpauseSchedule; note
// is shown by describe.
func (c *Client) PauseSchedule(ctx context.Context, id, note string) error {
	st, err := c.scheduleStore(ctx)
	if err != nil {
		return err
	}
	_, err = st.Pause(ctx, id, note)
	return err
}

// UnpauseSchedule lets a paused schedule fire again. Fire times that passed
// while it was paused are not caught up.
func (c *Client) UnpauseSchedule(ctx context.Context, id, note string) error {
	st, err := c.scheduleStore(ctx)
	if err != nil {
		return err
	}
	_, err = st.Unpause(ctx, id, note)
	return err
}

// DeleteSchedule removes a schedule. Runs it started are not affected.
func (c *Client) DeleteSchedule(ctx context.Context, id string) error {
	st, err := c.scheduleStore(ctx)
	if err != nil {
		return err
	}
	return st.Delete(ctx, id)
}

// TriggerSchedule fires a schedule now, outside its spec (also while
// paused). The overlap policy applies. It returns the workflow id the start
// gets if the policy lets it start; the start itself is made by a scheduler
// runner (every worker runs one).
func (c *Client) TriggerSchedule(ctx context.Context, id string) (string, error) {
	st, err := c.scheduleStore(ctx)
	if err != nil {
		return "", err
	}
	return st.Trigger(ctx, id)
}

// scheduleStore opens the namespace's schedules. Opening is one request;
// schedules are managed rarely enough not to keep it on the Client.
func (c *Client) scheduleStore(ctx context.Context) (*schedules.Store, error) {
	return schedules.OpenStore(ctx, c.nc, c.js, c.names)
}
