package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
)

// Queries are NATS requests on cairn.<ns>.query.<queue>.<key>, served by
// the queue's workers as a queue group: the worker that takes one runs it
// on the shard owning the instance (so it never races a workflow task),
// from its cache or after replaying the instance. They write nothing.

type queryReq struct {
	id  string
	msg *nats.Msg
}

// serveQueries subscribes to the queue's query subjects and hands each
// request to its instance's shard.
func (w *Worker) serveQueries(ctx context.Context, shards []chan *queryReq) (*nats.Subscription, error) {
	prefix := store.QueryPrefix(w.names, w.queue)
	return w.nc.QueueSubscribe(prefix+">", "cairn-query-"+w.queue, func(m *nats.Msg) {
		id, err := streams.UnescapeToken(strings.TrimPrefix(m.Subject, prefix))
		if err != nil {
			store.ReplyQuery(m, nil, fmt.Errorf("malformed query subject %q", m.Subject))
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
	var req store.QueryRequest
	if err := json.Unmarshal(q.msg.Data, &req); err != nil || req.Name == "" {
		store.ReplyQuery(q.msg, nil, fmt.Errorf("malformed query: want {\"name\":...,\"args\":...}"))
		return
	}
	e := c.get(q.id)
	if e != nil && !w.fresh(e) {
		c.remove(q.id)
		e = nil
	}
	if e == nil {
		// Only the partition's owner keeps the instance: a copy cached
		// elsewhere would go stale and answer later queries wrongly.
		into := c
		if !w.parts.owns(q.id) {
			into = nil
		}
		var err error
		if e, err = w.load(ctx, into, q.id); err != nil {
			store.ReplyQuery(q.msg, nil, err)
			return
		}
		if into == nil && e != nil && e.inst != nil {
			defer e.inst.Close()
		}
	}
	switch {
	case e == nil:
		store.ReplyQuery(q.msg, nil, fmt.Errorf("%w: %q", store.ErrNotFound, q.id))
	case e.inst == nil:
		res, err := w.queryClosed(ctx, q.id, req)
		store.ReplyQuery(q.msg, res, err)
	default:
		res, err := e.inst.Query(req.Name, req.Args)
		store.ReplyQuery(q.msg, res, err)
	}
}

// queryClosed answers a query on a closed run: its history is replayed to
// the end (never cached: nothing will run it again) and the code's handler
// asked, as Temporal answers queries on closed workflows.
func (w *Worker) queryClosed(ctx context.Context, id string, req store.QueryRequest) (json.RawMessage, error) {
	head, batches, err := w.store.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if head == nil {
		return nil, fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	fn, ok := w.workflows[head.WorkflowType]
	if !ok {
		return nil, &UnregisteredTypeError{WorkflowID: id, Run: head.Run, WorkflowType: head.WorkflowType, Queue: w.queue}
	}
	inst := w.newInstance(fn)
	defer inst.Close()
	if err := inst.Replay(batches); err != nil {
		return nil, fmt.Errorf("query %q on %q run %s: replaying its history: %w", req.Name, id, head.Run, err)
	}
	return inst.Query(req.Name, req.Args)
}
