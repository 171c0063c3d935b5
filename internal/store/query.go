package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// Queries are NATS requests on cairn.<ns>.query.<queue>.<key>, served by
// the queue's workers as a queue group: the worker that takes one runs it
// on the shard owning the instance (so it never races a workflow task),
// from its cache or after replaying the instance. They write nothing.

// Query reply headers.
const (
	HeaderQueryStatus = "Cairn-Query-Status"
	HeaderErrorType   = "Cairn-Error-Type"
)

func QueryPrefix(names streams.Names, queue string) string {
	return "cairn." + names.Namespace() + ".query." + queue + "."
}

func QuerySubject(names streams.Names, queue, id string) string {
	return QueryPrefix(names, queue) + names.InstanceKey(id)
}

type QueryRequest struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

func ReplyQuery(m *nats.Msg, result json.RawMessage, err error) {
	if m.Reply == "" {
		return
	}
	r := nats.NewMsg(m.Reply)
	if err != nil {
		f := history.FailureOf(err)
		switch {
		case errors.Is(err, ErrUnknownQuery):
			f.Type = "cairn.UnknownQuery"
		case errors.Is(err, ErrNotFound):
			f.Type = "cairn.NotFound"
		case errors.Is(err, ErrNotRunning):
			f.Type = "cairn.NotRunning"
		}
		r.Header.Set(HeaderQueryStatus, "error")
		r.Header.Set(HeaderErrorType, f.Type)
		r.Data, _ = json.Marshal(f)
	} else {
		r.Header.Set(HeaderQueryStatus, "ok")
		r.Data = result
	}
	_ = m.RespondMsg(r)
}

// Query asks a live worker of the run's task queue to run query name with
// args against the current state of a workflow's current run, running or
// closed (a closed run is replayed from its history by the worker).
// Nothing is written.
func (s *JetStream) Query(ctx context.Context, workflowID, name string, args json.RawMessage) (json.RawMessage, error) {
	// A closed run is queried too: a worker that has its type replays its
	// history and asks the code, as Temporal does.
	head, err := s.Head(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	if head == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, workflowID)
	}
	body, _ := json.Marshal(QueryRequest{Name: name, Args: args})
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	m, err := s.nc.RequestWithContext(ctx, QuerySubject(s.names, head.TaskQueue, workflowID), body)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("%w %q (workflow %q)", ErrNoWorker, head.TaskQueue, workflowID)
	}
	if err != nil {
		return nil, fmt.Errorf("query %q on %q: %w", name, workflowID, err)
	}
	if m.Header.Get(HeaderQueryStatus) == "ok" {
		return m.Data, nil
	}
	var f history.Failure
	if err := json.Unmarshal(m.Data, &f); err != nil {
		return nil, fmt.Errorf("query %q on %q: malformed reply", name, workflowID)
	}
	switch f.Type {
	case "cairn.UnknownQuery":
		return nil, fmt.Errorf("%w: %s", ErrUnknownQuery, f.Message)
	case "cairn.NotFound":
		return nil, fmt.Errorf("%w: %s", ErrNotFound, f.Message)
	case "cairn.NotRunning":
		return nil, fmt.Errorf("%w: %s", ErrNotRunning, f.Message)
	}
	return nil, &f
}
