package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
)

// WorkerInfo is a live worker, as its last heartbeat says.
type WorkerInfo struct {
	ID         string    `json:"id"`
	Host       string    `json:"host"`
	PID        int       `json:"pid"`
	TaskQueue  string    `json:"taskQueue"`
	Workflows  []string  `json:"workflows,omitempty"`
	Activities []string  `json:"activities,omitempty"`
	BuildID    string    `json:"buildId,omitempty"`
	Started    time.Time `json:"started"`
	Heartbeat  time.Time `json:"heartbeat"`
}

// TaskQueue is what a task queue serves and how far behind it is.
type TaskQueue struct {
	Name string `json:"name"`
	// WorkflowTypes and ActivityTypes were registered on the queue by a
	// worker at some time.
	WorkflowTypes []string `json:"workflowTypes,omitempty"`
	ActivityTypes []string `json:"activityTypes,omitempty"`
	// Workers are the queue's live workers.
	Workers []WorkerInfo `json:"workers,omitempty"`
	// WorkflowBacklog counts the inbox messages no workflow worker has
	// taken yet, WorkflowInFlight those taken and not yet acknowledged.
	WorkflowBacklog  uint64 `json:"workflowBacklog"`
	WorkflowInFlight uint64 `json:"workflowInFlight"`
	// ActivityBacklog counts, per activity type, the tasks no worker has
	// taken yet (attempts waiting for their backoff are not counted).
	ActivityBacklog map[string]uint64 `json:"activityBacklog,omitempty"`
}

// Workers returns the namespace's live workers, by task queue and id.
func (c *Client) Workers(ctx context.Context) ([]WorkerInfo, error) {
	live, err := c.registry.LiveWorkers(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: workers: %w", err)
	}
	out := make([]WorkerInfo, 0, len(live))
	for _, w := range live {
		out = append(out, WorkerInfo(w))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].TaskQueue != out[j].TaskQueue {
			return out[i].TaskQueue < out[j].TaskQueue
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// TaskQueues returns every task queue of the namespace that a type was
// registered on or that has a consumer, with its types, live workers and
// backlog, by name.
func (c *Client) TaskQueues(ctx context.Context) ([]TaskQueue, error) {
	queues := map[string]*TaskQueue{}
	queue := func(name string) *TaskQueue {
		q := queues[name]
		if q == nil {
			q = &TaskQueue{Name: name}
			queues[name] = q
		}
		return q
	}
	types, err := c.registry.Types(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: task queues: %w", err)
	}
	for _, t := range types {
		q := queue(t.TaskQueue)
		if t.Kind == "workflow" {
			q.WorkflowTypes = append(q.WorkflowTypes, t.Type)
		} else {
			q.ActivityTypes = append(q.ActivityTypes, t.Type)
		}
	}
	workers, err := c.Workers(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range workers {
		q := queue(w.TaskQueue)
		q.Workers = append(q.Workers, w)
	}
	if err := c.backlogs(ctx, queue); err != nil {
		return nil, fmt.Errorf("client: task queues: %w", err)
	}
	out := make([]TaskQueue, 0, len(queues))
	for _, q := range queues {
		slices.Sort(q.WorkflowTypes)
		slices.Sort(q.ActivityTypes)
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// backlogs adds the pending counts of the namespace's workflow task and
// activity consumers to their queues, found from each consumer's filter.
func (c *Client) backlogs(ctx context.Context, queue func(string) *TaskQueue) error {
	prefix := func(wildcard string) string { return strings.TrimSuffix(wildcard, ">") }
	inboxPrefix, taskPrefix := prefix(c.names.InboxWildcard()), prefix(c.names.TaskWildcard())
	for _, stream := range []string{c.names.InboxStream(), c.names.TasksStream()} {
		s, err := c.js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		lister := s.ListConsumers(ctx)
		for ci := range lister.Info() {
			filters := ci.Config.FilterSubjects
			if ci.Config.FilterSubject != "" {
				filters = append(filters, ci.Config.FilterSubject)
			}
			if len(filters) == 0 {
				continue
			}
			if rest, ok := strings.CutPrefix(filters[0], inboxPrefix); ok {
				q := queue(strings.SplitN(rest, ".", 2)[0])
				q.WorkflowBacklog += ci.NumPending
				q.WorkflowInFlight += uint64(ci.NumAckPending)
			} else if rest, ok := strings.CutPrefix(filters[0], taskPrefix); ok {
				parts := strings.SplitN(rest, ".", 2)
				if len(parts) != 2 {
					continue
				}
				typ, err := streams.UnescapeToken(parts[1])
				if err != nil {
					continue
				}
				q := queue(parts[0])
				if q.ActivityBacklog == nil {
					q.ActivityBacklog = map[string]uint64{}
				}
				q.ActivityBacklog[typ] += ci.NumPending
			}
		}
		if err := lister.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
			return err
		}
	}
	return nil
}
