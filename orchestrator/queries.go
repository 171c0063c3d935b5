package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/streams"
)

// Queries are NATS requests on cairn.<ns>.query.<queue>.<key>, served by
// the queue's workers as a queue group: the worker that takes one runs it
// on the shard owning the instance (so it never races a workflow task),
// from its cache or after replaying the instance. They write nothing.

// Query reply headers.
const (
	hdrQueryStatus = "Cairn-Query-Status"
	hdrErrorType   = "Cairn-Error-Type"
)

// Errors of queries.
var (
	// ErrUnknownQuery: the workflow registered no handler of that name.
	ErrUnknownQuery = executor.ErrUnknownQuery
	// ErrNoWorker: no live worker serves the workflow's task queue.
	ErrNoWorker = errors.New("no live worker serves the task queue")
)

func queryPrefix(names streams.Names, queue string) string {
	return "cairn." + names.Namespace() + ".query." + queue + "."
}

func querySubject(names streams.Names, queue, id string) string {
	return queryPrefix(names, queue) + names.InstanceKey(id)
}

type queryReq struct {
	id  string
	msg *nats.Msg
}

type queryAnswer struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

// serveQueries subscribes to the queue's query subjects and hands each
// request to its instance's shard.
func (w *Worker) serveQueries(ctx context.Context, shards []chan *queryReq) (*nats.Subscription, error) {
	prefix := queryPrefix(w.names, w.queue)
	return w.nc.QueueSubscribe(prefix+">", "cairn-query-"+w.queue, func(m *nats.Msg) {
		id, err := streams.UnescapeToken(strings.TrimPrefix(m.Subject, prefix))
		if err != nil {
			replyQuery(m, nil, fmt.Errorf("malformed query subject %q", m.Subject))
			return
		}
		select {
		case shards[w.shardOf(w.names.InboxSubject(w.queue, id))] <- &queryReq{id: id, msg: m}:
		case <-ctx.Done():
		}
	})
}

// query answers one query on the shard that owns the instance.
func (w *Worker) query(ctx context.Context, c *cache, q *queryReq) {
	var req queryAnswer
	if err := json.Unmarshal(q.msg.Data, &req); err != nil || req.Name == "" {
		replyQuery(q.msg, nil, fmt.Errorf("malformed query: want {\"name\":...,\"args\":...}"))
		return
	}
	e := c.get(q.id)
	if e == nil {
		var err error
		if e, err = w.load(ctx, c, q.id); err != nil {
			replyQuery(q.msg, nil, err)
			return
		}
	}
	switch {
	case e == nil:
		replyQuery(q.msg, nil, fmt.Errorf("%w: %q", ErrNotFound, q.id))
	case e.inst == nil:
		replyQuery(q.msg, nil, fmt.Errorf("%w: %q run %s is %s", ErrNotRunning, q.id, e.head.Run, e.head.Status))
	default:
		res, err := e.inst.Query(req.Name, req.Args)
		replyQuery(q.msg, res, err)
	}
}

func replyQuery(m *nats.Msg, result json.RawMessage, err error) {
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
		r.Header.Set(hdrQueryStatus, "error")
		r.Header.Set(hdrErrorType, f.Type)
		r.Data, _ = json.Marshal(f)
	} else {
		r.Header.Set(hdrQueryStatus, "ok")
		r.Data = result
	}
	_ = m.RespondMsg(r)
}

// Query asks a live worker of the run's task queue to run query name with
// args against the current state of a workflow. Nothing is written.
func (s *Store) Query(ctx context.Context, workflowID, name string, args json.RawMessage) (json.RawMessage, error) {
	head, err := s.runningHead(ctx, workflowID, "")
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(queryAnswer{Name: name, Args: args})
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	m, err := s.nc.RequestWithContext(ctx, querySubject(s.names, head.TaskQueue, workflowID), body)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("%w %q (workflow %q)", ErrNoWorker, head.TaskQueue, workflowID)
	}
	if err != nil {
		return nil, fmt.Errorf("query %q on %q: %w", name, workflowID, err)
	}
	if m.Header.Get(hdrQueryStatus) == "ok" {
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
