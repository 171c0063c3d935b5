package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// Summaries keeps the instances bucket: one history.Summary per instance,
// for list and describe. Writes are compare-and-set and never replace a
// summary with one that reflects older history, so concurrent writers
// (clients starting, workers closing) converge on the newest state.
type Summaries struct {
	kv    jetstream.KeyValue
	names streams.Names

	mu     sync.Mutex
	parked map[string]bool
}

// NewSummaries opens the instances bucket of a namespace.
func NewSummaries(ctx context.Context, js jetstream.JetStream, names streams.Names) (*Summaries, error) {
	kv, err := js.KeyValue(ctx, names.InstancesBucket())
	if err != nil {
		return nil, fmt.Errorf("orchestrator: instances bucket: %w", err)
	}
	return &Summaries{kv: kv, names: names, parked: map[string]bool{}}, nil
}

// KV returns the bucket.
func (s *Summaries) KV() jetstream.KeyValue { return s.kv }

// Get returns the summary of an instance, or nil if it has none.
func (s *Summaries) Get(ctx context.Context, id string) (*history.Summary, error) {
	sum, _, err := s.get(ctx, id)
	return sum, err
}

func (s *Summaries) get(ctx context.Context, id string) (*history.Summary, uint64, error) {
	e, err := s.kv.Get(ctx, s.names.InstanceKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var sum history.Summary
	if err := json.Unmarshal(e.Value(), &sum); err != nil {
		return nil, 0, fmt.Errorf("summary of %q: %w", id, err)
	}
	return &sum, e.Revision(), nil
}

// Update applies fn to the current summary (nil if none) and stores the
// result with compare-and-set, retrying on conflicts. fn returns nil to
// leave the summary as it is.
func (s *Summaries) Update(ctx context.Context, id string, fn func(cur *history.Summary) *history.Summary) error {
	key := s.names.InstanceKey(id)
	for range 10 {
		cur, rev, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		next := fn(cur)
		if next == nil {
			return nil
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		if cur == nil {
			_, err = s.kv.Create(ctx, key, data)
		} else {
			_, err = s.kv.Update(ctx, key, data, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			var apiErr *jetstream.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
				return err
			}
		}
	}
	return fmt.Errorf("summary of %q: too many concurrent updates", id)
}

// Started records a new run (called by the client that started it).
func (s *Summaries) Started(ctx context.Context, sum *history.Summary) error {
	// A new id has no summary: one create, no read.
	if data, err := json.Marshal(sum); err == nil {
		if _, err := s.kv.Create(ctx, s.names.InstanceKey(sum.WorkflowID), data); err == nil {
			return nil
		}
	}
	return s.Update(ctx, sum.WorkflowID, func(cur *history.Summary) *history.Summary {
		if cur != nil && cur.HistorySeq >= sum.HistorySeq {
			return nil
		}
		return sum
	})
}

// park marks the run parked. A summary that does not exist yet (its
// starting client has not written it) is created from the head, so a
// parked run is never shown as healthy.
func (s *Summaries) park(ctx context.Context, id string, head *Head, f *history.Failure) {
	s.mu.Lock()
	already := s.parked[id]
	s.mu.Unlock()
	if already {
		return
	}
	marked := false
	err := s.Update(ctx, id, func(cur *history.Summary) *history.Summary {
		marked = false
		if cur == nil || (head != nil && cur.Run != head.Run && cur.HistorySeq < head.Seq) {
			if head == nil {
				return nil
			}
			cur = &history.Summary{WorkflowID: id, WorkflowType: head.WorkflowType, TaskQueue: head.TaskQueue,
				Run: head.Run, Status: head.Status, HistorySeq: head.Seq}
		}
		cur.Parked = f
		marked = true
		return cur
	})
	if err == nil && marked {
		s.mu.Lock()
		s.parked[id] = true
		s.mu.Unlock()
	}
}

// wasParked reports whether the instance may be marked parked; a cold load
// asks the bucket, since the worker that parked it may be gone.
func (s *Summaries) wasParked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parked[id]
}

func (s *Summaries) checkParked(ctx context.Context, id string) {
	sum, _ := s.Get(ctx, id)
	if sum != nil && sum.Parked != nil {
		s.mu.Lock()
		s.parked[id] = true
		s.mu.Unlock()
	}
}

func (s *Summaries) unpark(ctx context.Context, id string) {
	s.mu.Lock()
	delete(s.parked, id)
	s.mu.Unlock()
	_ = s.Update(ctx, id, func(cur *history.Summary) *history.Summary {
		if cur == nil || cur.Parked == nil {
			return nil
		}
		cur.Parked = nil
		return cur
	})
}

// status records the latest custom status of a run.
func (s *Summaries) status(ctx context.Context, id string, head *Head, start time.Time, status json.RawMessage) {
	_ = s.Update(ctx, id, func(cur *history.Summary) *history.Summary {
		if cur != nil && (cur.HistorySeq > head.Seq || (cur.Run != head.Run && cur.HistorySeq > head.RunStart)) {
			return nil
		}
		if cur == nil || cur.Run != head.Run {
			// The starting client has not written the summary yet.
			cur = &history.Summary{WorkflowID: id, WorkflowType: head.WorkflowType, TaskQueue: head.TaskQueue,
				Run: head.Run, Status: head.Status, StartTime: start}
		}
		cur.CustomStatus = status
		cur.HistorySeq = head.Seq
		return cur
	})
}

// closed records the outcome of a closed run.
func (s *Summaries) closed(ctx context.Context, id string, head *Head, last history.Batch) {
	s.mu.Lock()
	delete(s.parked, id)
	s.mu.Unlock()
	var closeEv *history.Event
	for _, ev := range last {
		if ev.IsClose() {
			closeEv = ev
		}
	}
	_ = s.Update(ctx, id, func(cur *history.Summary) *history.Summary {
		if cur != nil && (cur.HistorySeq > head.Seq || (cur.Run != head.Run && cur.HistorySeq > head.RunStart)) {
			return nil
		}
		if cur == nil || cur.Run != head.Run {
			cur = &history.Summary{WorkflowID: id, WorkflowType: head.WorkflowType, TaskQueue: head.TaskQueue, Run: head.Run}
		}
		cur.Status = head.Status
		cur.HistorySeq = head.Seq
		cur.Parked = nil
		if closeEv != nil {
			cur.CloseTime = closeEv.Time
			switch a := closeEv.Attributes.(type) {
			case *history.WorkflowFailed:
				cur.Failure = a.Failure
			case *history.WorkflowCanceled:
				cur.Failure = a.Failure
			case *history.WorkflowTerminated:
				cur.Failure = &history.Failure{Type: history.FailureTerminated, Message: a.Reason}
			case *history.WorkflowTimedOut:
				cur.Failure = &history.Failure{Type: history.FailureTimeout, NonRetryable: true,
					Message: "workflow execution timeout of " + a.Timeout.D().String(), Details: json.RawMessage(`{"kind":"workflow-execution"}`)}
			}
		} else if cur.CloseTime.IsZero() {
			cur.CloseTime = time.Now()
		}
		return cur
	})
}

// noteStatus queues a summary update when a committed batch set a custom
// status, so list shows it.
func (w *Worker) noteStatus(id string, head *Head, start time.Time, batch history.Batch) {
	var status json.RawMessage
	for _, ev := range batch {
		if a, ok := ev.Attributes.(*history.StatusSet); ok {
			status = a.Status
		}
	}
	if status != nil {
		w.background(func(ctx context.Context) { w.summaries.status(ctx, id, head, start, status) })
	}
}
