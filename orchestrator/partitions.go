package orchestrator

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/streams"
)

// Partition ownership.
//
// A queue's inbox is split into partitions (streams.InboxPartitionFilters),
// each read by its own durable consumer with the pinned-client priority
// policy: the server delivers a partition's messages to one worker at a
// time, and moves the pin to another puller only once the pinned worker has
// not pulled for streams.PinnedTTL (it died) or the pin is released. That
// exclusivity is the server's, not ours.
//
// Which worker pulls which partition is placement, not exclusivity: the
// queue's workers announce themselves on a core NATS subject every
// memberInterval, and each pulls the partitions that rendezvous hashing
// gives it (assign: balanced rendezvous hashing) among the members it
// heard from within memberTTL. When a worker
// joins, the others release the partitions it now owns (stop pulling, and
// unpin when the pin is theirs), so the newcomer's pulls are pinned at once;
// when one leaves cleanly it says so and releases its pins; when one dies,
// the others stop hearing it and its pins expire.
//
// Correctness never rests on this agreement: while views differ, the pin
// keeps a partition with one worker, and a worker that still holds a copy
// of an instance from before is covered by the conditional append and by
// never dropping what a copy cannot place (stale.go). Ownership only keeps
// the sticky cache useful: each partition has an epoch, bumped whenever
// this worker's hold on it changes, and a cached copy from another epoch is
// not used.

const (
	// memberInterval is how often a worker announces itself.
	memberInterval = time.Second
	// memberTTL is how long a member stays counted without an
	// announcement.
	memberTTL = 3 * memberInterval
	// pullExpiry bounds each pull request: the owner renews its pull (and
	// with it its pin) at least this often, well inside
	// streams.PinnedTTL.
	pullExpiry = 2 * time.Second
	// partitionBuffer is how many messages a partition's consumer holds
	// in the client ahead of the shards.
	partitionBuffer = 256
	// Headers of member announcements.
	headerMember      = "Cairn-Member"
	headerMemberLeave = "Cairn-Member-Leave"
	headerMemberTypes = "Cairn-Member-Types"
	// headerPinID is the header the server puts on messages of a pinned
	// consumer: the pin they were delivered under.
	headerPinID = "Nats-Pin-Id"
)

// partitions is one worker's side of a queue's partition ownership.
type partitions struct {
	w       *Worker
	n       int
	cons    []jetstream.Consumer
	self    string
	deliver func(p int, m jetstream.Msg)
	// epochs[p] changes whenever this worker's hold on p changes: a
	// cached copy loaded in another epoch is not used.
	epochs []atomic.Uint64

	// types fingerprints the workflow types this worker serves; a member
	// announcing another is warned about once (warned).
	types  string
	warned map[string]bool

	mu      sync.Mutex
	members map[string]time.Time
	running []jetstream.ConsumeContext
	pins    []string
	owned   int
}

func newPartitions(w *Worker, cons []jetstream.Consumer, deliver func(p int, m jetstream.Msg)) *partitions {
	names := slices.Sorted(maps.Keys(w.workflows))
	h := fnv.New64a()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return &partitions{w: w, n: len(cons), cons: cons, self: nuid.Next(), deliver: deliver,
		types: strconv.FormatUint(h.Sum64(), 16), warned: map[string]bool{},
		epochs: make([]atomic.Uint64, len(cons)), members: map[string]time.Time{},
		running: make([]jetstream.ConsumeContext, len(cons)), pins: make([]string, len(cons))}
}

// of returns the partition of an instance.
func (ps *partitions) of(id string) int { return streams.InboxPartition(id, ps.n) }

// epoch returns the current epoch of an instance's partition.
func (ps *partitions) epoch(id string) uint64 { return ps.epochs[ps.of(id)].Load() }

// owns reports whether this worker pulls the instance's partition.
func (ps *partitions) owns(id string) bool {
	p := ps.of(id)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.running[p] != nil
}

// Owned returns how many partitions this worker pulls.
func (ps *partitions) Owned() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.owned
}

// run announces the worker, follows the other members and keeps the
// partitions it pulls in line with them until ctx ends; then it leaves,
// releasing what it holds so that the others take over at once.
func (ps *partitions) run(ctx context.Context, ready func()) error {
	subject := ps.w.names.MembersSubject(ps.w.queue)
	sub, err := ps.w.nc.Subscribe(subject, func(m *nats.Msg) {
		if ps.heard(m) {
			ps.reconcile(ctx)
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	ps.announce(false)
	ps.reconcile(ctx)
	ready()
	tick := time.NewTicker(memberInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			ps.leave()
			return nil
		case <-tick.C:
			ps.announce(false)
			ps.expire(time.Now())
			ps.reconcile(ctx)
		}
	}
}

// heard takes a member's announcement and reports whether it changed the
// members this worker knows (a member joined or left).
func (ps *partitions) heard(m *nats.Msg) bool {
	id := m.Header.Get(headerMember)
	if id == "" || id == ps.self {
		return false
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if types := m.Header.Get(headerMemberTypes); types != "" && types != ps.types && !ps.warned[id] {
		ps.warned[id] = true
		ps.w.log.Warn("another worker of the queue serves other workflow types; instances of a type "+
			"the owner of their partition does not serve are parked until one that does owns it", "member", id)
	}
	_, known := ps.members[id]
	if m.Header.Get(headerMemberLeave) != "" {
		delete(ps.members, id)
		return known
	}
	ps.members[id] = time.Now()
	return !known
}

func (ps *partitions) announce(leave bool) {
	m := nats.NewMsg(ps.w.names.MembersSubject(ps.w.queue))
	m.Header.Set(headerMember, ps.self)
	m.Header.Set(headerMemberTypes, ps.types)
	if leave {
		m.Header.Set(headerMemberLeave, "1")
	}
	_ = ps.w.nc.PublishMsg(m)
}

// expire forgets the members not heard from within memberTTL.
func (ps *partitions) expire(now time.Time) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for id, seen := range ps.members {
		if now.Sub(seen) > memberTTL {
			delete(ps.members, id)
		}
	}
}

// assign gives each of n partitions an owner among members: each member
// owns n/len(members) partitions, rounded down or up (balance is what
// makes adding workers add throughput), and each partition goes to the
// member that ranks highest for it (rendezvous hashing) among those with
// room left, so a member joining or leaving moves few partitions. Every
// member computes the same assignment from the same set, in any order.
func assign(n int, members []string) []string {
	sorted := slices.Clone(members)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	k := len(sorted)
	room := make(map[string]int, k)
	for i, m := range sorted {
		room[m] = n / k
		if i < n%k {
			room[m]++
		}
	}
	out := make([]string, n)
	ranked := make([]string, k)
	for p := range n {
		copy(ranked, sorted)
		slices.SortFunc(ranked, func(a, b string) int {
			return cmp.Compare(score(b, p), score(a, p))
		})
		for _, m := range ranked {
			if room[m] > 0 {
				room[m]--
				out[p] = m
				break
			}
		}
	}
	return out
}

// score ranks member m for partition p: a 64-bit hash of both, mixed well
// (similar member ids must not favour one member everywhere).
func score(m string, p int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(m))
	x := h.Sum64() ^ (uint64(p)+1)*0x9E3779B97F4A7C15
	// splitmix64's finaliser.
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// reconcile starts pulling the partitions this worker owns and releases
// the others.
func (ps *partitions) reconcile(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	members := make([]string, 0, len(ps.members)+1)
	members = append(members, ps.self)
	for id := range ps.members {
		members = append(members, id)
	}
	owners := assign(ps.n, members)
	for p := range ps.n {
		mine := owners[p] == ps.self
		switch {
		case mine && ps.running[p] == nil:
			ps.startLocked(p)
		case !mine && ps.running[p] != nil:
			ps.releaseLocked(p)
		}
	}
}

// startLocked starts pulling partition p.
func (ps *partitions) startLocked(p int) {
	cc, err := ps.cons[p].Consume(func(m jetstream.Msg) { ps.received(p, m) },
		jetstream.PullPriorityGroup(streams.PriorityGroup),
		jetstream.PullExpiry(pullExpiry),
		jetstream.PullMaxMessages(partitionBuffer),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			ps.w.log.Debug("workflow task consumer", "partition", p, "error", err)
		}))
	if err != nil {
		ps.w.log.Warn("pulling a workflow task partition failed; will retry", "partition", p, "error", err)
		return
	}
	ps.epochs[p].Add(1)
	ps.running[p] = cc
	ps.owned++
}

// releaseLocked stops pulling partition p and, when the server pins it to
// this worker, unpins it so that its new owner's pulls take it at once.
// The messages already in the client's buffer are still handed to the
// shards (drained), rather than left to wait out the ack wait.
func (ps *partitions) releaseLocked(p int) {
	ps.running[p].Drain()
	ps.running[p] = nil
	ps.owned--
	ps.epochs[p].Add(1)
	pin := ps.pins[p]
	ps.pins[p] = ""
	if pin == "" {
		return // never delivered to us: not pinned to us
	}
	cons := ps.cons[p]
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		info, err := cons.Info(ctx)
		if err != nil {
			return // the pin expires after streams.PinnedTTL anyway
		}
		for _, g := range info.PriorityGroups {
			if g.Group == streams.PriorityGroup && g.PinnedClientID == pin {
				if err := ps.w.inbox.UnpinConsumer(ctx, info.Name, streams.PriorityGroup); err != nil {
					ps.w.log.Debug("unpinning a released partition failed; its pin expires", "partition", p, "error", err)
				}
			}
		}
	}()
}

// received takes a message of partition p: a pin it has not seen means
// its hold on p was lost in between (another worker may have run the
// partition's instances), so the partition's cached copies are dropped.
func (ps *partitions) received(p int, m jetstream.Msg) {
	if pin := m.Headers().Get(headerPinID); pin != "" {
		ps.mu.Lock()
		if ps.pins[p] != pin {
			if ps.pins[p] != "" {
				ps.epochs[p].Add(1)
			}
			ps.pins[p] = pin
		}
		ps.mu.Unlock()
	}
	ps.deliver(p, m)
}

// leave tells the other members that this worker goes and releases every
// partition it pulls.
func (ps *partitions) leave() {
	ps.announce(true)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for p := range ps.n {
		if ps.running[p] != nil {
			ps.releaseLocked(p)
		}
	}
}

// backlog is the number of messages waiting in, or handed out by, the
// queue's partitions.
func (ps *partitions) backlog(ctx context.Context) (int64, error) {
	var n int64
	for _, c := range ps.cons {
		info, err := c.Info(ctx)
		if err != nil {
			return 0, err
		}
		n += int64(info.NumPending) + int64(info.NumAckPending)
	}
	return n, nil
}

// fresh reports whether a cached copy was cached in the current epoch of
// its partition: while this worker held the partition without a break.
func (w *Worker) fresh(e *entry) bool { return e.epoch == w.parts.epoch(e.id) }

// UnregisteredTypeError is the error of an instance whose workflow type the
// worker that owns its partition does not serve. The instance is parked
// (describe shows this error) and retried after the park delay, since a
// worker that serves the type may own the partition by then; but as with
// Temporal's task queues, every worker of a queue must register the same
// workflow types.
type UnregisteredTypeError struct {
	WorkflowID, Run, WorkflowType, Queue string
}

func (e *UnregisteredTypeError) Error() string {
	return fmt.Sprintf("workflow %q run %s: type %q is not registered on this worker of queue %q "+
		"(every worker of a queue must register the same workflow types)", e.WorkflowID, e.Run, e.WorkflowType, e.Queue)
}
