package orchestrator

import (
	"container/list"
	"sync"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/internal/store"
)

// entry is an instance held by this worker: its replayed run and the head
// of its history, which the next append expects.
type entry struct {
	id   string
	head *store.Head
	// inst is nil once the run is closed.
	inst *executor.Instance
	// started is the run's start, when the entry was loaded from history.
	started *history.WorkflowStarted
	// openChildren are the children a closed run left open (loaded runs
	// only): the parent-close policy applies to them.
	openChildren []*history.ChildWorkflowScheduled
	// last is the last committed batch; its commands are re-emitted when
	// a stopped task may have cut them off (reemit.go).
	last history.Batch
	// unsure is set on a copy loaded from history: a task that appended
	// one of its batches may have stopped before their commands went out.
	// It is cleared once they have been re-emitted (reemit.go).
	unsure bool
	// consumed is the highest inbox stream sequence that a batch of the
	// run consumed, as far as the copy knows (Head.BatchInboxSeqs at the
	// load, then this worker's own appends).
	consumed uint64
	// epoch is the epoch of the instance's partition when the copy was
	// cached: a copy from another epoch is not used (partitions.go).
	epoch uint64
	elem  *list.Element
}

// cache is a bounded LRU of live instances (sticky execution): a hit skips
// reading and replaying history. Shards own disjoint instances, so the lock
// only guards the map and list, never an instance.
type cache struct {
	mu    sync.Mutex
	max   int
	items map[string]*entry
	lru   *list.List
	evict func(*entry)
	// stamp, if set, marks an entry as it is cached.
	stamp func(*entry)
}

func newCache(max int, evict func(*entry)) *cache {
	return &cache{max: max, items: map[string]*entry{}, lru: list.New(), evict: evict}
}

func (c *cache) get(id string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.items[id]
	if e != nil {
		c.lru.MoveToFront(e.elem)
	}
	return e
}

func (c *cache) put(e *entry) {
	var evicted []*entry
	c.mu.Lock()
	if old := c.items[e.id]; old != nil && old != e {
		c.lru.Remove(old.elem)
		evicted = append(evicted, old)
	}
	if e.elem == nil || c.items[e.id] != e {
		e.elem = c.lru.PushFront(e)
		if c.stamp != nil {
			c.stamp(e)
		}
	}
	c.items[e.id] = e
	for c.lru.Len() > c.max {
		back := c.lru.Back()
		old := back.Value.(*entry)
		c.lru.Remove(back)
		delete(c.items, old.id)
		evicted = append(evicted, old)
	}
	c.mu.Unlock()
	for _, old := range evicted {
		c.evict(old)
	}
}

func (c *cache) remove(id string) {
	c.mu.Lock()
	e := c.items[id]
	if e != nil {
		c.lru.Remove(e.elem)
		delete(c.items, id)
	}
	c.mu.Unlock()
	if e != nil {
		c.evict(e)
	}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *cache) clear() {
	c.mu.Lock()
	all := c.items
	c.items = map[string]*entry{}
	c.lru.Init()
	c.mu.Unlock()
	for _, e := range all {
		c.evict(e)
	}
}
