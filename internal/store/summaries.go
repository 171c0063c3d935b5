package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

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
	// store reads history when a summary must be rebuilt from it (missing,
	// or behind after a crash).
	history History

	mu     sync.Mutex
	parked map[string]bool
}

// NewSummaries opens the instances bucket of a namespace.
func NewSummaries(ctx context.Context, js jetstream.JetStream, names streams.Names) (*Summaries, error) {
	kv, err := js.KeyValue(ctx, names.InstancesBucket())
	if err != nil {
		return nil, fmt.Errorf("orchestrator: instances bucket: %w", err)
	}
	return &Summaries{kv: kv, names: names, history: New(js.Conn(), js, names), parked: map[string]bool{}}, nil
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
func (s *Summaries) Park(ctx context.Context, id string, head *Head, f *history.Failure) {
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

// WasParked reports whether the instance may be marked parked; a cold load
// asks the bucket, since the worker that parked it may be gone.
func (s *Summaries) WasParked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parked[id]
}

// CatchUp is run when a worker loads an instance cold for redelivered
// messages, i.e. after a worker died mid-task: a summary that does not
// reflect the head yet (its write was lost with the worker) is rebuilt from
// history. It also notes a park recorded by the dead worker. Costs one read
// of the bucket; history is read only when the summary is behind.
func (s *Summaries) CatchUp(ctx context.Context, id string, head *Head) error {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if cur != nil && cur.Parked != nil {
		s.mu.Lock()
		s.parked[id] = true
		s.mu.Unlock()
	}
	if cur != nil && cur.Run == head.Run && cur.HistorySeq >= head.Seq {
		return nil
	}
	return s.Update(ctx, id, func(cur *history.Summary) *history.Summary { return s.rebuild(ctx, id, cur) })
}

// Refresh rewrites the summary of an instance from its history when it
// lags behind it (after a reset, say); an instance without history keeps
// no summary.
func (s *Summaries) Refresh(ctx context.Context, id string) error {
	head, err := s.history.Head(ctx, id)
	if err != nil || head == nil {
		return err
	}
	return s.CatchUp(ctx, id, head)
}

// rebuild derives the summary of an instance's current run from its
// history, for Update: nil when cur is as new, or when the instance has no
// history any more (it was purged: a late writer must not bring its
// summary back).
func (s *Summaries) rebuild(ctx context.Context, id string, cur *history.Summary) *history.Summary {
	head, batches, err := s.history.Load(ctx, id)
	if err != nil || head == nil || (cur != nil && cur.HistorySeq >= head.Seq) {
		return nil
	}
	sum := SummaryOf(id, head, batches)
	if cur != nil && cur.Run == head.Run && head.Status == history.StatusRunning {
		sum.Parked = cur.Parked
	}
	return sum
}

// SummaryOf computes the summary of a run from its batches.
func SummaryOf(id string, head *Head, batches []history.Batch) *history.Summary {
	sum := &history.Summary{WorkflowID: id, WorkflowType: head.WorkflowType, TaskQueue: head.TaskQueue,
		Run: head.Run, Status: head.Status, HistorySeq: head.Seq, SearchAttributes: history.SearchAttributesOf(batches)}
	for _, b := range batches {
		for _, ev := range b {
			switch a := ev.Attributes.(type) {
			case *history.WorkflowStarted:
				sum.StartTime = ev.Time
			case *history.StatusSet:
				sum.CustomStatus = a.Status
			case *history.WorkflowPaused:
				sum.Paused = true
			case *history.WorkflowResumed:
				sum.Paused = false
			}
			if ev.IsClose() {
				FillClose(sum, ev)
				sum.Paused = false
			}
		}
	}
	return sum
}

// FillClose records a close event's time and failure in a summary.
func FillClose(sum *history.Summary, closeEv *history.Event) {
	sum.CloseTime = closeEv.Time
	sum.Failure = history.CloseFailure(closeEv)
}

// write applies fill to the summary of the run at head and stores it with
// HistorySeq = head.Seq. A summary reflecting newer history is left alone;
// a missing one, or one of an older run, is rebuilt from history instead
// (fill only knows what the batch changed).
func (s *Summaries) Write(ctx context.Context, id string, head *Head, fill func(cur *history.Summary)) error {
	return s.Update(ctx, id, func(cur *history.Summary) *history.Summary {
		if cur != nil && (cur.HistorySeq > head.Seq || (cur.Run != head.Run && cur.HistorySeq > head.RunStart)) {
			return nil
		}
		if cur == nil || cur.Run != head.Run {
			return s.rebuild(ctx, id, cur)
		}
		fill(cur)
		cur.HistorySeq = head.Seq
		return cur
	})
}

func (s *Summaries) Unpark(ctx context.Context, id string) {
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
func (s *Summaries) SetStatus(ctx context.Context, id string, head *Head, status json.RawMessage) {
	_ = s.Update(ctx, id, func(cur *history.Summary) *history.Summary {
		if cur != nil && (cur.HistorySeq > head.Seq || (cur.Run != head.Run && cur.HistorySeq > head.RunStart)) {
			return nil
		}
		if cur == nil || cur.Run != head.Run {
			// The starting client has not written the summary yet.
			return s.rebuild(ctx, id, cur)
		}
		cur.CustomStatus = status
		cur.HistorySeq = head.Seq
		return cur
	})
}

// ForgetParked drops what the summaries remember of a run that closed.
func (s *Summaries) ForgetParked(id string) {
	s.mu.Lock()
	delete(s.parked, id)
	s.mu.Unlock()
}
