package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/orchestrator"
	"github.com/cairnhq/cairn/sdk/failure"
	"github.com/cairnhq/cairn/streams"
)

func traceParent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier["traceparent"]
}

// Get waits for the run to close and decodes its result into valuePtr
// (which may be nil). A run that failed, was canceled or terminated returns
// a *failure.WorkflowError wrapping the cause.
//
// A run that continued as new is followed to the run that carries on, as
// often as it takes: Get returns the outcome of the chain.
func (r *WorkflowRun) Get(ctx context.Context, valuePtr any) error {
	run := r.Run
	for {
		ev, err := r.c.waitClose(ctx, r.ID, run)
		if err != nil {
			return err
		}
		if a, ok := ev.ev.Attributes.(*history.WorkflowContinuedAsNew); ok {
			run = a.NextRun
			continue
		}
		return r.c.outcome(ev, valuePtr)
	}
}

func (c *Client) outcome(ev *closeEvent, valuePtr any) error {
	werr := func(cause error) error {
		return &failure.WorkflowError{WorkflowID: ev.id, Run: ev.run, WorkflowType: ev.typ, Cause: cause}
	}
	if a, ok := ev.ev.Attributes.(*history.WorkflowCompleted); ok {
		if valuePtr == nil || len(a.Result) == 0 {
			return nil
		}
		return c.opts.dc.FromPayload(a.Result, valuePtr)
	}
	if err := failconv.OfClose(ev.ev); err != nil {
		return werr(err)
	}
	return fmt.Errorf("run %s of %q closed with unexpected event %s", ev.run, ev.id, ev.ev.Type)
}

type closeEvent struct {
	id, run, typ string
	ev           *history.Event
}

// waitClose blocks until the run closes. It listens to the instance's
// history subject: a message announcing a closed status (a hint only: core
// subscribers see a publish even if the stream rejects it, and before the
// stream stores it) makes it re-read the stored head, a few times over a
// few milliseconds. A periodic re-read covers missed messages and
// reconnects. Only the last history message is read, never the whole run.
func (c *Client) waitClose(ctx context.Context, id, run string) (*closeEvent, error) {
	hint := make(chan struct{}, 1)
	sub, err := c.nc.Subscribe(c.names.HistorySubject(id), func(m *nats.Msg) {
		if history.Status(m.Header.Get(store.HeaderStatus)) == history.StatusRunning {
			return
		}
		select {
		case hint <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	next := 5 * time.Millisecond
	poll := time.NewTimer(next)
	defer poll.Stop()
	// Each direct get is bounded on its own (streams), so a reply lost
	// while the server restarts fails the read, not the whole wait.
	read := func() (*closeEvent, bool, error) {
		head, last, err := c.store.Last(ctx, id)
		if err != nil {
			return nil, false, err
		}
		if head == nil {
			return nil, false, fmt.Errorf("%w: %q run %q", ErrNotFound, id, run)
		}
		if run != "" && head.Run != run {
			if earlier, err := c.runExists(ctx, id, run); err != nil || !earlier {
				// A continued run whose start is not stored yet.
				return nil, false, err
			}
			// The run is not the current one: it closed before a newer
			// run started, so its close is in history.
			return c.closeOfRun(ctx, id, run)
		}
		run = head.Run
		if head.Status == history.StatusRunning {
			return nil, false, nil
		}
		// The store checked the last message as the engine writes it
		// (store.Last): one that is not is ErrCorruptHistory, never a
		// result.
		for _, ev := range last {
			if ev.IsClose() {
				return &closeEvent{id: id, run: head.Run, typ: head.WorkflowType, ev: ev}, true, nil
			}
		}
		return nil, false, fmt.Errorf("run %s of %q is %s but its last history message has no close event", head.Run, id, head.Status)
	}
	check := func() (*closeEvent, bool, error) {
		ce, done, err := read()
		if err != nil && ctx.Err() == nil && transient(err) {
			return nil, false, nil // the periodic re-read tries again
		}
		return ce, done, err
	}
	for {
		ce, done, err := check()
		if err != nil || done {
			return ce, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-poll.C:
			// Re-read soon at first, then every 2 s: a close published
			// just before the subscription started may be stored only
			// after the first read, and its message is never seen.
			next *= 2
			poll.Reset(min(next, 2*time.Second))
		case <-hint:
			// The close may not be stored yet: re-read shortly.
			for d := time.Millisecond; d <= 64*time.Millisecond; d *= 2 {
				ce, done, err := check()
				if err != nil || done {
					return ce, err
				}
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(d):
				}
			}
		}
	}
}

// transient reports whether a failed read is worth repeating: the server
// is away, restarting or slow, as opposed to an answer (not found).
func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrDisconnected) || errors.Is(err, streams.ErrDirectGetUnavailable)
}

// runExists reports whether run is stored in the instance's history (it may
// not be yet: the next run of a continue-as-new is started by a worker
// shortly after the close).
func (c *Client) runExists(ctx context.Context, id, run string) (bool, error) {
	head, _, err := c.store.LoadRun(ctx, id, run)
	return head != nil, err
}

// closeOfRun finds the close event of an earlier run of an instance.
func (c *Client) closeOfRun(ctx context.Context, id, run string) (*closeEvent, bool, error) {
	head, batches, err := c.store.LoadRun(ctx, id, run)
	if err != nil {
		return nil, false, err
	}
	if head == nil {
		return nil, false, fmt.Errorf("%w: %q run %q", ErrNotFound, id, run)
	}
	for _, b := range batches {
		for _, ev := range b {
			if ev.IsClose() {
				return &closeEvent{id: id, run: run, typ: head.WorkflowType, ev: ev}, true, nil
			}
		}
	}
	// Not closed yet: the head read before this run started (the run
	// continues an earlier one); keep waiting.
	return nil, false, nil
}

// Result waits for a run (the current one if run is empty) and decodes its
// result.
func (c *Client) Result(ctx context.Context, id, run string, valuePtr any) error {
	return c.GetRun(id, run).Get(ctx, valuePtr)
}

// History returns the events of a run (the current one if run is empty).
func (c *Client) History(ctx context.Context, id, run string) ([]*history.Event, error) {
	head, batches, err := c.store.LoadRun(ctx, id, run)
	if err != nil {
		return nil, err
	}
	if head == nil {
		return nil, fmt.Errorf("%w: %q run %q", ErrNotFound, id, run)
	}
	var out []*history.Event
	for _, b := range batches {
		out = append(out, b...)
	}
	return out, nil
}

// PendingActivity is an activity that has not closed.
type PendingActivity struct {
	// ID is the activity's id within the run.
	ID int64 `json:"id"`
	// ActivityType is the registered name.
	ActivityType string `json:"activityType"`
	// Attempt is the current (or next) attempt, 1-based.
	Attempt int `json:"attempt"`
	// Scheduled is when the activity was scheduled.
	Scheduled time.Time `json:"scheduled"`
	// LastFailure is the failure of the previous attempt, if any.
	LastFailure *history.Failure `json:"lastFailure,omitempty"`
	// NextAttemptAt is when a retry waiting for its backoff is due.
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
}

// PendingTimer is a timer that has neither fired nor been canceled.
type PendingTimer struct {
	// ID is the timer's id within the run.
	ID int64 `json:"id"`
	// Name labels the timer (e.g. what it waits for).
	Name string `json:"name,omitempty"`
	// FireAt is when it fires.
	FireAt time.Time `json:"fireAt"`
}

// PendingChild is a child workflow that has not reported back.
type PendingChild struct {
	// ID is the child's id within the parent run.
	ID int64 `json:"id"`
	// WorkflowType, WorkflowID and Run identify the child's run.
	WorkflowType string `json:"workflowType"`
	WorkflowID   string `json:"workflowId"`
	Run          string `json:"run"`
}

// PendingCallback is a callback wait not completed yet.
type PendingCallback struct {
	// ID is the wait's id within the run.
	ID int64 `json:"id"`
	// Name is the name given to WaitForCallback.
	Name string `json:"name"`
	// Started is when the wait began.
	Started time.Time `json:"started"`
}

// Description is the state of a run, computed from its history.
type Description struct {
	// Summary is the run's listing entry: identity, status, times,
	// search attributes, custom status, park and pause state.
	history.Summary
	// HistoryLength counts the run's events.
	HistoryLength int64 `json:"historyLength"`
	// Result is the encoded result of a completed run.
	Result json.RawMessage `json:"result,omitempty"`
	// PendingActivities are activities that have not closed.
	PendingActivities []PendingActivity `json:"pendingActivities,omitempty"`
	// PendingTimers are timers that have neither fired nor been canceled.
	PendingTimers []PendingTimer `json:"pendingTimers,omitempty"`
	// PendingChildren are child workflows that have not reported back.
	PendingChildren []PendingChild `json:"pendingChildren,omitempty"`
	// PendingCallbacks are callback waits not completed yet.
	PendingCallbacks []PendingCallback `json:"pendingCallbacks,omitempty"`
	// SignalsReceived counts the signals recorded in the run.
	SignalsReceived int `json:"signalsReceived,omitempty"`
	// Waiting explains why a running run makes no progress, e.g. no live
	// worker serves its type.
	Waiting string `json:"waiting,omitempty"`
	// NextRun is the run a continued-as-new run continues as.
	NextRun string `json:"nextRun,omitempty"`
	// HistoryWarning is set when a running run's history nears the default
	// bound (50,000 events by default): it should continue as new.
	HistoryWarning string `json:"historyWarning,omitempty"`
	// Paused is set while the run is paused (Client.Pause).
	Paused *history.WorkflowPaused `json:"paused,omitempty"`
	// PausedSince is when the pause was recorded.
	PausedSince time.Time `json:"pausedSince,omitzero"`
	// ResetFrom names the run this one was reset or redriven from.
	ResetFrom *history.ResetInfo `json:"resetFrom,omitempty"`
	// Cost is what the run consumed so far, with list-price comparisons.
	Cost *Cost `json:"cost,omitempty"`
}

// Describe returns the state of a run (the current one if run is empty).
// A run parked by a non-deterministic change or a panic has Parked set,
// with the error naming the event and the code line.
func (c *Client) Describe(ctx context.Context, id, run string) (*Description, error) {
	head, batches, err := c.store.LoadRun(ctx, id, run)
	if err != nil {
		return nil, err
	}
	if head == nil {
		return nil, fmt.Errorf("%w: %q run %q", ErrNotFound, id, run)
	}
	d := &Description{Summary: history.Summary{WorkflowID: id, WorkflowType: head.WorkflowType,
		TaskQueue: head.TaskQueue, Run: head.Run, Status: head.Status, HistorySeq: head.Seq}}
	for _, b := range batches {
		for _, ev := range b {
			d.HistoryLength = ev.Seq
			switch a := ev.Attributes.(type) {
			case *history.WorkflowStarted:
				d.StartTime, d.ResetFrom = ev.Time, a.ResetFrom
			case *history.WorkflowPaused:
				d.Paused, d.PausedSince = a, ev.Time
			case *history.WorkflowResumed:
				d.Paused, d.PausedSince = nil, time.Time{}
			case *history.StatusSet:
				d.CustomStatus = a.Status
			case *history.SignalReceived:
				d.SignalsReceived++
			case *history.WorkflowCompleted:
				d.Result = a.Result
			case *history.WorkflowContinuedAsNew:
				d.NextRun = a.NextRun
			}
			if ev.IsClose() {
				d.CloseTime, d.Failure = ev.Time, history.CloseFailure(ev)
			}
		}
	}
	if d.Status != history.StatusRunning {
		d.Paused, d.PausedSince = nil, time.Time{}
	}
	open := history.OpenItems(batches)
	d.Cost = costOf(batches, open, head.TaskTime, d.StartTime, d.CloseTime)
	d.SearchAttributes = history.SearchAttributesOf(batches)
	if d.Status == history.StatusRunning {
		for _, a := range open.Activities {
			d.PendingActivities = append(d.PendingActivities, PendingActivity{ID: a.Scheduled.ID, ActivityType: a.Scheduled.ActivityType,
				Attempt: a.Attempt, Scheduled: a.ScheduledAt, LastFailure: a.LastFailure, NextAttemptAt: a.NextAttemptAt})
		}
		for _, t := range open.Timers {
			d.PendingTimers = append(d.PendingTimers, PendingTimer{ID: t.ID, Name: t.Name, FireAt: t.FireAt})
		}
		for _, ch := range open.Children {
			d.PendingChildren = append(d.PendingChildren, PendingChild{ID: ch.ID, WorkflowType: ch.WorkflowType, WorkflowID: ch.WorkflowID, Run: ch.Run})
		}
		for _, cb := range open.Callbacks {
			d.PendingCallbacks = append(d.PendingCallbacks, PendingCallback{ID: cb.Started.ID, Name: cb.Started.Name, Started: cb.StartedAt})
		}
		if sum, err := c.summaries.Get(ctx, id); err == nil && sum != nil && sum.Run == head.Run {
			d.Parked = sum.Parked
		}
		if d.Parked == nil {
			d.Waiting = c.waiting(ctx, head.TaskQueue, head.WorkflowType)
		}
		if limit := int64(executor.DefaultMaxHistoryEvents); d.HistoryLength >= limit*8/10 {
			d.HistoryWarning = fmt.Sprintf("history has %d events, %d%% of the default limit of %d: continue as new",
				d.HistoryLength, d.HistoryLength*100/limit, limit)
		} else if limit := int64(orchestrator.DefaultMaxHistoryBytes); head.Bytes >= limit*8/10 {
			d.HistoryWarning = fmt.Sprintf("history has %d bytes, %d%% of the default limit of %d: continue as new",
				head.Bytes, head.Bytes*100/limit, limit)
		}
	}
	return d, nil
}

func (c *Client) waiting(ctx context.Context, queue, typ string) string {
	workers, err := c.registry.LiveWorkers(ctx)
	if err != nil {
		return ""
	}
	for i := range workers {
		if workers[i].Serves(queue, typ) {
			return ""
		}
	}
	return fmt.Sprintf("no live worker serves workflow type %q on task queue %q; the run continues when one starts", typ, queue)
}
