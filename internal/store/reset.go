package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
)

// Reset kinds, recorded in history.ResetInfo.
const (
	ResetKindReset   = "reset"
	ResetKindRedrive = "redrive"
)

// ResetRequest asks for a new run of an instance whose history is a prefix
// of an existing run: everything up to the cut replays, the rest runs
// again with the current code.
type ResetRequest struct {
	WorkflowID string
	// Run is the run to cut from ("" = the current run).
	Run string
	// EventSeq is the last event to keep; the cut moves forward to the end
	// of the workflow task holding it, since a task commits whole. Ignored
	// by redrive, which finds its own cut.
	EventSeq int64
	// Redrive cuts a failed (or timed out) run just before the task in
	// which its last step failed, keeping every step that succeeded, and
	// gives the failed activity a fresh set of attempts.
	Redrive bool
	Reason  string
	// NewRun is the id of the new run ("" = random); repeating a request
	// with the same NewRun is idempotent.
	NewRun string
}

// ResetResult describes the run a reset made.
type ResetResult struct {
	Run string
	// EventSeq is the last event kept from the base run.
	EventSeq int64
	// Terminated is the run the reset closed, if one was running.
	Terminated string
}

// Reset makes the new run in one atomic append: if the instance's current
// run is running, its termination and the new run's history land in the
// same JetStream atomic batch, so no crash leaves the instance without a
// live run or with two. A wake published first lets a worker dispatch what
// the new run has open (activities, timers) once the append is there.
func (s *JetStream) Reset(ctx context.Context, req ResetRequest) (*ResetResult, error) {
	base, batches, err := s.LoadRun(ctx, req.WorkflowID, req.Run)
	if err != nil {
		return nil, err
	}
	if base == nil || len(batches) == 0 {
		return nil, fmt.Errorf("%w: %q run %q", ErrNotFound, req.WorkflowID, req.Run)
	}
	kept, cut, err := cutHistory(req, base, batches)
	if err != nil {
		return nil, err
	}
	newRun := req.NewRun
	if newRun == "" {
		newRun = nuid.Next()
	}
	kind := ResetKindReset
	if req.Redrive {
		kind = ResetKindRedrive
	}
	ws := *batches[0][0].Attributes.(*history.WorkflowStarted)
	ws.Run = newRun
	ws.RequestID = ""
	ws.ResetFrom = &history.ResetInfo{Run: base.Run, EventSeq: cut, Kind: kind, Reason: req.Reason}
	first := *batches[0][0]
	first.Attributes = &ws
	kept[0] = append(history.Batch{&first}, kept[0][1:]...)
	data, err := history.Batches(kept).Encode()
	if err != nil {
		return nil, err
	}
	lastSeq := kept[len(kept)-1][len(kept[len(kept)-1])-1].Seq

	key := s.names.InstanceKey(req.WorkflowID)
	for range 20 {
		cur, err := s.Head(ctx, req.WorkflowID)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, req.WorkflowID)
		}
		if cur.Run == newRun {
			return &ResetResult{Run: newRun, EventSeq: cut}, nil
		}
		inbox := s.names.ClientInboxSubject(cur.TaskQueue, req.WorkflowID)
		if s.viaEngine {
			return s.resetViaEngine(ctx, req, cur, newRun, cut)
		}
		wake := nats.NewMsg(inbox)
		wake.Header.Set(HeaderKind, KindReset)
		wake.Header.Set(HeaderRun, newRun)
		wake.Header.Set(HeaderMsgID, "reset/"+key+"/"+newRun)
		if _, err := s.publish(ctx, wake); err != nil {
			return nil, fmt.Errorf("reset %q: publish wake: %w", req.WorkflowID, err)
		}
		msgs := make([]*nats.Msg, 0, 2)
		res := &ResetResult{Run: newRun, EventSeq: cut}
		if cur.Status == history.StatusRunning {
			term := history.Batch{{Seq: cur.LastEvent + 1, Time: time.Now().UTC(), Type: history.TypeWorkflowTerminated,
				Attributes: &history.WorkflowTerminated{Reason: fmt.Sprintf("%s as run %s: %s", kind, newRun, req.Reason)}}}
			td, err := term.Encode()
			if err != nil {
				return nil, err
			}
			tm := s.historyMsg(req.WorkflowID, cur.Run, history.StatusTerminated, term[0].Seq, cur.WorkflowType, cur.TaskQueue, td)
			tm.Header.Set(HeaderRunStart, strconv.FormatUint(cur.RunStart, 10))
			tm.Header.Set(HeaderMsgID, key+"/"+cur.Run+"/"+strconv.FormatInt(term[0].Seq, 10))
			msgs = append(msgs, tm)
			res.Terminated = cur.Run
		}
		rm := s.historyMsg(req.WorkflowID, newRun, history.StatusRunning, lastSeq, ws.WorkflowType, ws.TaskQueue, data)
		rm.Header.Set(HeaderMsgID, key+"/"+newRun+"/1")
		msgs = append(msgs, rm)
		msgs[0].Header.Set(HeaderExpLastSubj, strconv.FormatUint(cur.Seq, 10))
		err = s.publishAtomic(ctx, "reset-"+newRun, msgs)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reset %q: %w", req.WorkflowID, err)
		}
		if res.Terminated != "" {
			_, _ = s.publish(ctx, NewTerminated(inbox, key, res.Terminated))
		}
		return res, nil
	}
	return nil, fmt.Errorf("reset %q: too much contention", req.WorkflowID)
}

func (s *JetStream) historyMsg(id, run string, status history.Status, last int64, typ, queue string, data []byte) *nats.Msg {
	m := nats.NewMsg(s.names.HistorySubject(id))
	m.Data = data
	m.Header.Set(HeaderRun, run)
	m.Header.Set(HeaderStatus, string(status))
	m.Header.Set(HeaderLastEvent, strconv.FormatInt(last, 10))
	m.Header.Set(HeaderType, typ)
	m.Header.Set(HeaderQueue, queue)
	return m
}

// publishAtomic commits msgs as one JetStream atomic batch (ADR-50): the
// first ones are staged, the last commits them all or none. A lost reply
// is recovered by the message ids: the retry is refused as a duplicate
// batch, which the caller sees as the head having moved to its run.
func (s *JetStream) publishAtomic(ctx context.Context, batchID string, msgs []*nats.Msg) error {
	if len(msgs) == 1 {
		exp, _ := strconv.ParseUint(msgs[0].Header.Get(HeaderExpLastSubj), 10, 64)
		msgs[0].Header.Del(HeaderExpLastSubj)
		_, err := s.publish(ctx, msgs[0], jetstream.WithExpectLastSequencePerSubject(exp))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return ErrConflict
		}
		return err
	}
	for i, m := range msgs {
		m.Header.Set("Nats-Batch-Id", batchID)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(msgs)-1 {
			if err := s.nc.PublishMsg(m); err != nil {
				return err
			}
		}
	}
	last := msgs[len(msgs)-1]
	last.Header.Set("Nats-Batch-Commit", "1")
	reply, err := s.nc.RequestMsgWithContext(ctx, last)
	if err != nil {
		return err
	}
	var ack struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(reply.Data, &ack); err != nil {
		return fmt.Errorf("atomic batch reply %q: %w", reply.Data, err)
	}
	if ack.Error != nil {
		switch ack.Error.ErrCode {
		case 10071, 10164: // wrong last sequence
			return ErrConflict
		case 10201: // duplicate message id: an earlier try committed
			return ErrConflict
		}
		return fmt.Errorf("atomic batch: %s (%d)", ack.Error.Description, ack.Error.ErrCode)
	}
	return nil
}

// cutHistory returns the batches the new run keeps and the last kept
// event's sequence.
func cutHistory(req ResetRequest, base *Head, batches []history.Batch) ([]history.Batch, int64, error) {
	id := req.WorkflowID
	k := -1
	if req.Redrive {
		if base.Status != history.StatusFailed && base.Status != history.StatusTimedOut {
			return nil, 0, fmt.Errorf("%w: %q run %s is %s; only failed or timed-out runs can be redriven", ErrInvalidReset, id, base.Run, base.Status)
		}
		// The task in which the last step failed, else the closing task
		// (the code failed on its own).
		k = len(batches) - 1
	scan:
		for i := len(batches) - 1; i > 0; i-- {
			for _, ev := range batches[i] {
				switch ev.Type {
				case history.TypeActivityFailed, history.TypeChildWorkflowFailed, history.TypeCallbackFailed:
					k = i
					break scan
				case history.TypeCallbackTimedOut:
					// A wait its code canceled is no failed step.
					if a, ok := ev.Attributes.(*history.CallbackTimedOut); ok && a.Reason != executor.CallbackCanceled {
						k = i
						break scan
					}
				}
			}
		}
		k-- // keep the tasks before it
	} else {
		for i, b := range batches {
			if len(b) > 0 && b[len(b)-1].Seq >= req.EventSeq {
				k = i
				break
			}
		}
		if k < 0 || req.EventSeq < 1 {
			return nil, 0, fmt.Errorf("%w: %q run %s has no event %d", ErrInvalidReset, id, base.Run, req.EventSeq)
		}
	}
	if k < 0 {
		k = 0
	}
	kept := make([]history.Batch, 0, k+1)
	for _, b := range batches[:k+1] {
		for _, ev := range b {
			if ev.IsClose() || ev.Type == history.TypeWorkflowTerminated {
				return nil, 0, fmt.Errorf("%w: event %d of %q run %s is in the task that closed the run; pick an earlier event",
					ErrInvalidReset, ev.Seq, id, base.Run)
			}
		}
		kept = append(kept, b)
	}
	open := history.OpenItems(kept)
	if len(open.Children) > 0 {
		return nil, 0, fmt.Errorf("%w: child workflow %q is open at the cut of %q run %s; pick a point before it started or after it closed",
			ErrInvalidReset, open.Children[0].WorkflowID, id, base.Run)
	}
	if len(open.Callbacks) > 0 {
		return nil, 0, fmt.Errorf("%w: callback %q is open at the cut of %q run %s (its token names the old run); pick a point before it started or after it closed",
			ErrInvalidReset, open.Callbacks[0].Started.Name, id, base.Run)
	}
	last := kept[len(kept)-1]
	cut := last[len(last)-1].Seq
	if req.Redrive {
		kept = freshAttempts(kept, open)
	}
	return kept, cut, nil
}

// freshAttempts drops the retry records of the activities open at a
// redrive's cut and renumbers the events, so those activities start again
// at attempt 1 with their whole retry policy, as Step Functions' redrive
// does. Retry records are invisible to workflow code, so replay is
// unaffected; a task that held nothing else disappears.
func freshAttempts(batches []history.Batch, open *history.Open) []history.Batch {
	redriven := map[int64]bool{}
	for _, a := range open.Activities {
		redriven[a.Scheduled.ID] = true
	}
	var out []history.Batch
	seq := int64(0)
	for _, b := range batches {
		var nb history.Batch
		for _, ev := range b {
			if r, ok := ev.Attributes.(*history.ActivityRetrying); ok && redriven[r.ID] {
				continue
			}
			c := *ev
			seq++
			c.Seq = seq
			nb = append(nb, &c)
		}
		if len(nb) > 0 {
			out = append(out, nb)
		}
	}
	return out
}
