package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/propagation"

	"github.com/cairnhq/cairn/history"
)

// ReusePolicy decides whether a workflow id whose last run is closed may be
// started again. A running id is never started twice: starting it returns
// the running run.
type ReusePolicy int

const (
	// AllowDuplicate starts a new run whatever the last one's outcome.
	AllowDuplicate ReusePolicy = iota
	// AllowDuplicateFailedOnly starts a new run only if the last one did not
	// complete successfully.
	AllowDuplicateFailedOnly
	// RejectDuplicate never reuses an id.
	RejectDuplicate
)

// StartRequest describes a run to start.
type StartRequest struct {
	WorkflowID   string
	WorkflowType string
	TaskQueue    string
	Input        json.RawMessage
	RequestID    string
	Reuse        ReusePolicy
	TraceParent  string
	Memo         json.RawMessage
	// ExecutionTimeout is recorded in the start event.
	ExecutionTimeout time.Duration
	// Run, if set, is the run id to create (children: chosen by the parent
	// so that starting them is idempotent); a head already at that run is
	// returned as is, whatever its status.
	Run string
	// Parent is recorded for child workflows.
	Parent *history.ParentInfo
	// Signal, if set, is recorded in the start batch itself
	// (signal-with-start): the run never exists without it.
	Signal *history.SignalReceived
	// SearchAttributes are the run's initial search attributes.
	SearchAttributes map[string]history.SearchValue
}

// StartResult tells which run the start resolved to.
type StartResult struct {
	Run string
	// Created is false when the id was already running and Run is that run.
	Created bool
	// Head is the history head after the start.
	Head *Head
	// StartTime is the start event's time (of the new run only).
	StartTime time.Time
}

// Start starts a run with the two-step protocol that needs no worker to be
// alive: it publishes a start wake to the instance's inbox (so a worker can
// finish the start if this process dies), then appends the start batch
// conditionally on the head it read. Of concurrent starts of one id, exactly
// one append wins; the others find the winner running and return it.
func (s *JetStream) Start(ctx context.Context, req StartRequest) (*StartResult, error) {
	key := s.names.InstanceKey(req.WorkflowID)
	inbox := s.names.ClientInboxSubject(req.TaskQueue, req.WorkflowID)
	for range 20 {
		head, err := s.Head(ctx, req.WorkflowID)
		if err != nil {
			return nil, err
		}
		if head != nil && (head.Status == history.StatusRunning || (req.Run != "" && head.Run == req.Run)) {
			return &StartResult{Run: head.Run, Head: head}, nil
		}
		if head != nil {
			switch req.Reuse {
			case RejectDuplicate:
				return nil, fmt.Errorf("%w: %q (last run %s %s)", ErrAlreadyExists, req.WorkflowID, head.Run, head.Status)
			case AllowDuplicateFailedOnly:
				if head.Status == history.StatusCompleted {
					return nil, fmt.Errorf("%w: %q (last run %s completed)", ErrAlreadyExists, req.WorkflowID, head.Run)
				}
			}
		}
		run := req.Run
		if run == "" {
			run = nuid.Next()
		}
		now := time.Now().UTC()
		h := fnv.New64a()
		h.Write([]byte(req.WorkflowID + "/" + run))
		batch := history.Batch{{Seq: 1, Time: now, Type: history.TypeWorkflowStarted, Attributes: &history.WorkflowStarted{
			WorkflowType: req.WorkflowType, WorkflowID: req.WorkflowID, Run: run, TaskQueue: req.TaskQueue,
			Input: req.Input, RandomSeed: h.Sum64(), RequestID: req.RequestID, TraceParent: req.TraceParent,
			Memo: req.Memo, ExecutionTimeout: history.Duration(req.ExecutionTimeout), Parent: req.Parent,
			SearchAttributes: req.SearchAttributes}}}
		if req.Signal != nil {
			batch = append(batch, &history.Event{Seq: 2, Time: now, Type: history.TypeSignalReceived, Attributes: req.Signal})
		}
		var expected uint64
		if head != nil {
			expected = head.Seq
		}
		wake, err := NewStartWake(inbox, key, run, expected, batch)
		if err != nil {
			return nil, err
		}
		if _, err := s.publish(ctx, wake); err != nil {
			return nil, fmt.Errorf("start %q: publish start: %w", req.WorkflowID, err)
		}
		if s.viaEngine {
			// The worker that takes the wake appends it, if the head is
			// still the one read; either way the head moves.
			cur, err := s.awaitHead(ctx, req.WorkflowID, "start", func(h *Head) bool {
				return h != nil && (head == nil || h.Seq != head.Seq)
			})
			if err != nil {
				return nil, err
			}
			if cur.Run == run {
				return &StartResult{Run: run, Created: true, Head: cur, StartTime: now}, nil
			}
			continue // another start won; the next round tells what to do
		}
		nh, err := s.Append(ctx, AppendRequest{WorkflowID: req.WorkflowID, Prev: head, NewRun: head != nil, Run: run,
			Type: req.WorkflowType, Queue: req.TaskQueue, Status: history.StatusRunning, Batch: batch})
		if err == nil {
			return &StartResult{Run: run, Created: true, Head: nh, StartTime: now}, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		// Someone appended first: a worker finishing our own start, or a
		// concurrent start. The next round tells which.
		if cur, err := s.Head(ctx, req.WorkflowID); err == nil && cur != nil && cur.Run == run {
			return &StartResult{Run: run, Created: true, Head: cur, StartTime: now}, nil
		}
	}
	return nil, fmt.Errorf("start %q: too much contention", req.WorkflowID)
}

// Terminate closes a running run at once, without running its code. It
// needs no worker; the worker that holds the run cleans up its timers when
// it sees the terminated wake.
func (s *JetStream) Terminate(ctx context.Context, workflowID, run, reason string) (*Head, error) {
	for range 20 {
		head, err := s.Head(ctx, workflowID)
		if err != nil {
			return nil, err
		}
		if head == nil || (run != "" && head.Run != run) {
			return nil, fmt.Errorf("%w: %q run %q", ErrNotFound, workflowID, run)
		}
		if head.Status != history.StatusRunning {
			return nil, fmt.Errorf("%w: %q run %s is %s", ErrNotRunning, workflowID, head.Run, head.Status)
		}
		if s.viaEngine {
			return s.terminateViaEngine(ctx, workflowID, head, reason)
		}
		batch := history.Batch{{Seq: head.LastEvent + 1, Time: time.Now().UTC(), Type: history.TypeWorkflowTerminated,
			Attributes: &history.WorkflowTerminated{Reason: reason}}}
		nh, err := s.Append(ctx, AppendRequest{WorkflowID: workflowID, Prev: head, Run: head.Run, Type: head.WorkflowType,
			Queue: head.TaskQueue, Status: history.StatusTerminated, Batch: batch})
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		key := s.names.InstanceKey(workflowID)
		_, err = s.publish(ctx, NewTerminated(s.names.ClientInboxSubject(head.TaskQueue, workflowID), key, head.Run))
		return nh, err
	}
	return nil, fmt.Errorf("terminate %q: too much contention", workflowID)
}

// Signal raises the event name on the current run of an instance (or on
// run, if given). id de-duplicates: raising the same id twice records one
// event.
func (s *JetStream) Signal(ctx context.Context, workflowID, run, name, id string, payload []byte) error {
	head, err := s.runningHead(ctx, workflowID, run)
	if err != nil {
		return err
	}
	key := s.names.InstanceKey(workflowID)
	m := NewSignal(s.names.ClientInboxSubject(head.TaskQueue, workflowID), key, head.Run, name, id, payload)
	// The caller's trace context travels with the event; the worker links
	// the event's span to it.
	InjectTrace(ctx, m.Header)
	_, err = s.publish(ctx, m)
	return err
}

// runningHead returns the head of an instance whose current run is
// running (and is run, if given), or ErrNotFound / ErrNotRunning.
func (s *JetStream) runningHead(ctx context.Context, workflowID, run string) (*Head, error) {
	head, err := s.Head(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	if head == nil || (run != "" && head.Run != run) {
		return nil, fmt.Errorf("%w: %q run %q", ErrNotFound, workflowID, run)
	}
	if head.Status != history.StatusRunning {
		return nil, fmt.Errorf("%w: %q run %s is %s", ErrNotRunning, workflowID, head.Run, head.Status)
	}
	return head, nil
}

// InjectTrace puts the W3C trace context of ctx into a message's headers.
// (A map carrier, not http.Header: NATS header names are case sensitive and
// the protocol spells them in lower case.)
func InjectTrace(ctx context.Context, h nats.Header) {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	for k, v := range carrier {
		h.Set(k, v)
	}
}

// Cancel asks a running run to cancel: its context is canceled and the
// workflow decides how to finish.
func (s *JetStream) Cancel(ctx context.Context, workflowID, run, reason string) error {
	head, err := s.runningHead(ctx, workflowID, run)
	if err != nil {
		return err
	}
	key := s.names.InstanceKey(workflowID)
	_, err = s.publish(ctx, NewCancel(s.names.ClientInboxSubject(head.TaskQueue, workflowID), key, head.Run, reason))
	return err
}
