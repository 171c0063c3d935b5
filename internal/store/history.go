package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// Head is what the last history message of an instance says about it. It
// is enough to start, terminate or describe a run without reading all of
// its history.
type Head struct {
	// Seq is the stream sequence of the last history message: the value a
	// conditional append expects.
	Seq uint64
	// RunStart is the stream sequence of the run's first message.
	RunStart     uint64
	Run          string
	Status       history.Status
	LastEvent    int64
	WorkflowType string
	TaskQueue    string
	// InboxSeq is the highest inbox stream sequence among the messages of
	// the workflow task that wrote the last batch (0: not written by a
	// workflow task, or unknown). Messages at or below it that come back
	// mean that task stopped after its append, before its acknowledgement.
	InboxSeq uint64
	// BatchInboxSeqs is, after a load, the InboxSeq of the history message
	// each loaded batch came from, in the order of the batches (0: not
	// written by a workflow task): a worker that meets one of those inbox
	// messages again learns which batches' commands may not have gone out.
	BatchInboxSeqs []uint64
	// Bytes is the stored size of the run's history when known (after a
	// load or an append; 0 from a head read alone).
	Bytes int64
	// TaskTime is the time the run's workflow tasks spent running code,
	// when known (after a load), for cost accounting.
	TaskTime time.Duration
}

// JetStream reads and appends instance histories of one namespace.
type JetStream struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	names streams.Names

	// callbacksMu guards callbacksKV, the callbacks bucket, opened on the
	// first callback decision.
	callbacksMu sync.Mutex
	callbacksKV jetstream.KeyValue

	// viaEngine: starts, terminates and resets are handed to the engine
	// (WithoutHistoryWrites).
	viaEngine bool
}

// NewStore returns a Store over an open connection.
func New(nc *nats.Conn, js jetstream.JetStream, names streams.Names, opts ...Option) *JetStream {
	s := &JetStream{nc: nc, js: js, names: names}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Names returns the namespace's stream and subject names.
func (s *JetStream) Names() streams.Names { return s.names }

// Head returns the head of an instance's history, or nil if it has none.
// The stream's leader answers, so the head reflects every acknowledged
// append: a follower of a replicated stream may lag behind, and a worker
// acting on a stale head would drop as unknown the result of an activity
// scheduled by the append it has not seen.
func (s *JetStream) Head(ctx context.Context, workflowID string) (*Head, error) {
	m, err := streams.LastMsgFromLeader(ctx, s.nc, s.names.HistoryStream(), s.names.HistorySubject(workflowID))
	if errors.Is(err, streams.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history head of %q: %w", workflowID, err)
	}
	return checkedHead(workflowID, *m)
}

// checkedHead is the head a history message gives, if its headers are the
// engine's: a run, a known status, a valid task queue and a type. A head
// decides where a client publishes (the instance's inbox on its queue) and
// whether a run is closed, so a message that is not the engine's is a
// *CorruptHistoryError, never a head.
func checkedHead(workflowID string, m streams.StoredMsg) (*Head, error) {
	h := headOf(m.Seq, m.Header)
	switch {
	case h.Run == "":
		return nil, corruptMsg(workflowID, m, "no header "+HeaderRun, nil)
	case !h.Status.Valid():
		return nil, corruptMsg(workflowID, m, fmt.Sprintf("header %s is %q", HeaderStatus, h.Status), nil)
	case h.WorkflowType == "":
		return nil, corruptMsg(workflowID, m, "no header "+HeaderType, nil)
	}
	if err := streams.ValidateQueue(h.TaskQueue); err != nil {
		return nil, corruptMsg(workflowID, m, "header "+HeaderQueue, err)
	}
	return h, nil
}

// IsHead reports whether the history of an instance still ends at head
// (nil: the instance has none), asking the stream's leader.
func (s *JetStream) IsHead(ctx context.Context, workflowID string, head *Head) (bool, error) {
	var seq uint64
	m, err := streams.LastMsgFromLeader(ctx, s.nc, s.names.HistoryStream(), s.names.HistorySubject(workflowID))
	switch {
	case err == nil:
		seq = m.Seq
	case !errors.Is(err, streams.ErrMsgNotFound):
		return false, fmt.Errorf("confirm history head of %q: %w", workflowID, err)
	}
	if head == nil {
		return seq == 0, nil
	}
	return seq == head.Seq, nil
}

func headOf(seq uint64, h nats.Header) *Head {
	hd := &Head{
		Seq:          seq,
		RunStart:     u64(h.Get(HeaderRunStart)),
		Run:          h.Get(HeaderRun),
		Status:       history.Status(h.Get(HeaderStatus)),
		LastEvent:    i64(h.Get(HeaderLastEvent)),
		WorkflowType: h.Get(HeaderType),
		TaskQueue:    h.Get(HeaderQueue),
		InboxSeq:     u64(h.Get(HeaderInboxSeq)),
	}
	if hd.RunStart == 0 {
		hd.RunStart = seq
	}
	return hd
}

// Load returns the head and the batches of the current run of an instance;
// a nil head means the instance has no history. The head comes from the
// stream's leader (Head) and the batches from direct gets, which any
// replica answers: a read that ends before the head, from a replica that
// has not applied the latest appends yet, is done again, with the head read
// again too (the instance may have been purged or appended to meanwhile).
func (s *JetStream) Load(ctx context.Context, workflowID string) (*Head, []history.Batch, error) {
	wait := laggingReadFirst
	for attempt := 1; ; attempt++ {
		head, err := s.Head(ctx, workflowID)
		if err != nil || head == nil {
			return head, nil, err
		}
		msgs, err := streams.ReadSubject(ctx, s.nc, s.names.HistoryStream(), s.names.HistorySubject(workflowID), head.RunStart)
		if err != nil {
			return nil, nil, fmt.Errorf("read history of %q: %w", workflowID, err)
		}
		if slices.ContainsFunc(msgs, func(m streams.StoredMsg) bool { return m.Seq == head.Seq }) {
			return s.runOf(workflowID, head, msgs)
		}
		if attempt == laggingReadAttempts {
			return nil, nil, fmt.Errorf("read history of %q: the replicas answering have not reached its head, stream sequence %d, after %d reads",
				workflowID, head.Seq, attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, fmt.Errorf("read history of %q: %w", workflowID, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, laggingReadMax)
	}
}

// A replica that answers a read before it has applied the head it is asked
// to reach catches up within milliseconds, or a second or two on a loaded
// machine; the read is done again, for about 3 s, on whichever replica
// answers next.
const (
	laggingReadAttempts = 20
	laggingReadFirst    = 5 * time.Millisecond
	laggingReadMax      = 200 * time.Millisecond
)

// runOf decodes the batches of the run that ends at head from msgs, the
// messages read from head.RunStart on.
func (s *JetStream) runOf(workflowID string, head *Head, msgs []streams.StoredMsg) (*Head, []history.Batch, error) {
	batches := make([]history.Batch, 0, len(msgs))
	var last int64 // the sequence of the run's last event so far
	for _, m := range msgs {
		if m.Seq > head.Seq {
			// Appended after we read the head: the caller will meet it as
			// a conflict on its next append.
			break
		}
		bs, err := checkedBatches(workflowID, head, m, last)
		if err != nil {
			return nil, nil, err
		}
		last = bs[len(bs)-1][len(bs[len(bs)-1])-1].Seq
		batches = append(batches, bs...)
		for range bs {
			head.BatchInboxSeqs = append(head.BatchInboxSeqs, u64(m.Header.Get(HeaderInboxSeq)))
		}
		head.Bytes += int64(len(m.Data))
		head.TaskTime += taskTimeOf(m.Header)
	}
	return head, batches, nil
}

// checkedBatches decodes one history message of the run that ends at head,
// whose events must continue after event sequence last (0: the run's first
// message), and checks that it is one the engine writes: decodedBatches'
// checks, the run's header, a run that begins with WorkflowStarted, events
// numbered one after the other and the last one's number in the header. Anything else is a
// *CorruptHistoryError.
func checkedBatches(workflowID string, head *Head, m streams.StoredMsg, last int64) ([]history.Batch, error) {
	if run := m.Header.Get(HeaderRun); run != head.Run {
		return nil, corruptMsg(workflowID, m, fmt.Sprintf("header %s is %q in run %q", HeaderRun, run, head.Run), nil)
	}
	bs, err := decodedBatches(workflowID, m)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		for _, ev := range b {
			if last == 0 && ev.Type != history.TypeWorkflowStarted {
				return nil, corruptMsg(workflowID, m, fmt.Sprintf("the run begins with %s, not %s", ev.Type, history.TypeWorkflowStarted), nil)
			}
			if ev.Seq != last+1 {
				return nil, corruptMsg(workflowID, m, fmt.Sprintf("event %d follows event %d", ev.Seq, last), nil)
			}
			last = ev.Seq
		}
	}
	if recorded := i64(m.Header.Get(HeaderLastEvent)); recorded != last {
		return nil, corruptMsg(workflowID, m, fmt.Sprintf("its last event is %d, its header %s says %d", last, HeaderLastEvent, recorded), nil)
	}
	return bs, nil
}

// decodedBatches decodes a history message read alone: a known status
// header and a body of non-empty batches, or a *CorruptHistoryError.
func decodedBatches(workflowID string, m streams.StoredMsg) ([]history.Batch, error) {
	if st := m.Header.Get(HeaderStatus); !history.Status(st).Valid() {
		return nil, corruptMsg(workflowID, m, fmt.Sprintf("header %s is %q", HeaderStatus, st), nil)
	}
	bs, err := history.DecodeBatches(m.Data)
	if err != nil {
		return nil, corruptMsg(workflowID, m, "the body is not a batch of events", err)
	}
	if len(bs) == 0 || slices.ContainsFunc(bs, func(b history.Batch) bool { return len(b) == 0 }) {
		return nil, corruptMsg(workflowID, m, "an empty batch", nil)
	}
	return bs, nil
}

func corruptMsg(workflowID string, m streams.StoredMsg, reason string, err error) error {
	return &CorruptHistoryError{WorkflowID: workflowID, Seq: m.Seq, Reason: reason, Err: err}
}

// AppendRequest is one conditional append.
type AppendRequest struct {
	WorkflowID string
	// Prev is the head the batch follows; nil for the first message of an
	// instance. For the first message of a new run, Prev is the old run's
	// head and NewRun is set.
	Prev   *Head
	NewRun bool
	Run    string
	Type   string
	Queue  string
	Status history.Status
	Batch  history.Batch
	// Data is the batch already encoded (nil: Append encodes it).
	Data []byte
	// TaskTime is how long the task ran the code (recorded for cost
	// accounting; 0 = not measured).
	TaskTime time.Duration
	// InboxSeq is the highest inbox stream sequence among the task's
	// messages (see Head.InboxSeq; 0 = none).
	InboxSeq uint64
}

// Append commits a batch if the instance's history still ends at req.Prev.
// It returns the new head. A retried append of the same batch (its ack was
// lost) is recognised by its message id and succeeds.
func (s *JetStream) Append(ctx context.Context, req AppendRequest) (*Head, error) {
	if len(req.Batch) == 0 {
		return nil, errors.New("store: empty batch")
	}
	data := req.Data
	if data == nil {
		var err error
		if data, err = req.Batch.Encode(); err != nil {
			return nil, err
		}
	}
	var expected uint64
	if req.Prev != nil {
		expected = req.Prev.Seq
	}
	last := req.Batch[len(req.Batch)-1].Seq
	m := nats.NewMsg(s.names.HistorySubject(req.WorkflowID))
	m.Data = data
	m.Header.Set(HeaderRun, req.Run)
	m.Header.Set(HeaderStatus, string(req.Status))
	m.Header.Set(HeaderLastEvent, strconv.FormatInt(last, 10))
	m.Header.Set(HeaderType, req.Type)
	m.Header.Set(HeaderQueue, req.Queue)
	if req.TaskTime > 0 {
		m.Header.Set(HeaderTaskTime, strconv.FormatInt(req.TaskTime.Microseconds(), 10))
	}
	if req.InboxSeq > 0 {
		m.Header.Set(HeaderInboxSeq, strconv.FormatUint(req.InboxSeq, 10))
	}
	if req.Prev != nil && !req.NewRun {
		m.Header.Set(HeaderRunStart, strconv.FormatUint(req.Prev.RunStart, 10))
	}
	m.Header.Set(HeaderMsgID, s.names.InstanceKey(req.WorkflowID)+"/"+req.Run+"/"+strconv.FormatInt(req.Batch[0].Seq, 10))
	ack, err := s.publish(ctx, m, jetstream.WithExpectLastSequencePerSubject(expected))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return nil, fmt.Errorf("%w: instance %q run %s at event %d", ErrConflict, req.WorkflowID, req.Run, req.Batch[0].Seq)
		}
		return nil, fmt.Errorf("append history of %q run %s at event %d: %w", req.WorkflowID, req.Run, req.Batch[0].Seq, err)
	}
	h := &Head{Seq: ack.Sequence, Run: req.Run, Status: req.Status, LastEvent: last, WorkflowType: req.Type, TaskQueue: req.Queue,
		InboxSeq: req.InboxSeq}
	h.RunStart = ack.Sequence
	h.Bytes = int64(len(data))
	if req.Prev != nil && !req.NewRun {
		h.RunStart = req.Prev.RunStart
		h.Bytes += req.Prev.Bytes
	}
	return h, nil
}

// LoadRun returns the head and batches of one run of an instance: the
// current run when run is empty or current, else the named earlier run
// (found by scanning the instance's history, which is rare).
func (s *JetStream) LoadRun(ctx context.Context, workflowID, run string) (*Head, []history.Batch, error) {
	head, batches, err := s.Load(ctx, workflowID)
	if err != nil || head == nil || run == "" || head.Run == run {
		return head, batches, err
	}
	msgs, err := streams.ReadSubject(ctx, s.nc, s.names.HistoryStream(), s.names.HistorySubject(workflowID), 1)
	if err != nil {
		return nil, nil, err
	}
	var found *Head
	var taskTime time.Duration
	var last int64
	batches = nil
	for _, m := range msgs {
		if m.Header.Get(HeaderRun) != run {
			continue
		}
		bs, err := checkedBatches(workflowID, &Head{Run: run}, m, last)
		if err != nil {
			return nil, nil, err
		}
		last = bs[len(bs)-1][len(bs[len(bs)-1])-1].Seq
		batches = append(batches, bs...)
		tt := taskTime
		found = headOf(m.Seq, m.Header)
		taskTime = tt + taskTimeOf(m.Header)
	}
	if found != nil {
		found.TaskTime = taskTime
	}
	return found, batches, nil
}

func taskTimeOf(h nats.Header) time.Duration {
	return time.Duration(i64(h.Get(HeaderTaskTime))) * time.Microsecond
}

// Last returns the head and the decoded last batch of an instance (nil if
// it has no history): enough to tell whether the current run closed and
// how, with one read. The stream's leader answers, as for Head: a replica
// behind it would report a run just started as not found.
func (s *JetStream) Last(ctx context.Context, workflowID string) (*Head, history.Batch, error) {
	m, err := streams.LastMsgFromLeader(ctx, s.nc, s.names.HistoryStream(), s.names.HistorySubject(workflowID))
	if errors.Is(err, streams.ErrMsgNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read history head of %q: %w", workflowID, err)
	}
	head, err := checkedHead(workflowID, *m)
	if err != nil {
		return nil, nil, err
	}
	bs, err := decodedBatches(workflowID, *m)
	if err != nil {
		return nil, nil, err
	}
	// Read alone, a message cannot be checked against the one before it;
	// its own record of its last event can: the engine writes both.
	last := bs[len(bs)-1]
	if seq := last[len(last)-1].Seq; seq != head.LastEvent {
		return nil, nil, corruptMsg(workflowID, *m, fmt.Sprintf("its last event is %d, its header %s says %d", seq, HeaderLastEvent, head.LastEvent), nil)
	}
	return head, last, nil
}
