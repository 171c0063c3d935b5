package streams

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxNameLen is the longest namespace or queue name, in bytes. It keeps the
// derived stream, bucket and consumer names well inside server limits.
const MaxNameLen = 64

// Registry key kinds, the first token of a RegistryKey.
const (
	RegistryKindWorkflow = "workflow"
	RegistryKindActivity = "activity"
)

// ValidateNamespace checks that ns matches [A-Za-z0-9_-]{1,64}. The error
// wraps ErrInvalidName.
func ValidateNamespace(ns string) error {
	return validateName("namespace", ns)
}

// ValidateQueue checks that q matches [A-Za-z0-9_-]{1,64}. The error wraps
// ErrInvalidName.
func ValidateQueue(q string) error {
	return validateName("queue", q)
}

// validateName implements both validators. Namespaces and queues are used
// verbatim (unescaped) in subjects and names, so that operators can read them
// in the nats CLI; hence the strict alphabet.
func validateName(what, s string) error {
	if s == "" || len(s) > MaxNameLen {
		return fmt.Errorf("%w: %s %q: length must be 1..%d bytes", ErrInvalidName, what, s, MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		if !isTokenSafe(s[i]) {
			return fmt.Errorf("%w: %s %q: byte %#02x at %d is outside [A-Za-z0-9_-]", ErrInvalidName, what, s, s[i], i)
		}
	}
	return nil
}

// Names derives every JetStream name of one namespace: streams, subjects,
// consumers, KV buckets and keys. It is a small value type, cheap to copy and
// safe for concurrent use.
//
// Instance ids, activity types and timer names are arbitrary strings and are
// always passed through EscapeToken; namespaces and queues must already be
// valid (see ValidateNamespace and ValidateQueue) and are used verbatim.
// The zero Names is not usable; build one with NewNames.
type Names struct {
	ns string

	// Subject prefixes are computed once because subjects are built for
	// every message the engine publishes.
	historyPrefix   string
	inboxPrefix     string
	timerPrefix     string
	attemptPrefix   string
	taskPrefix      string
	taskDelayPrefix string
}

// NewNames returns the names of namespace ns. It never panics and does not
// validate: callers validate ns once at their boundary (Ensure and the
// client constructors do) so that this stays usable in hot paths. Passing an
// invalid namespace yields names the server will reject.
func NewNames(ns string) Names {
	base := "cairn." + ns + "."
	return Names{
		ns:              ns,
		historyPrefix:   base + "history.",
		inboxPrefix:     base + "inbox.",
		timerPrefix:     base + "timer.",
		attemptPrefix:   base + "attempt.",
		taskPrefix:      base + "task.",
		taskDelayPrefix: base + "taskdelay.",
	}
}

// Namespace returns the namespace the names belong to.
func (n Names) Namespace() string { return n.ns }

// HistoryStream is the Limits stream holding committed workflow tasks.
func (n Names) HistoryStream() string { return "cairn-" + n.ns + "-history" }

// InboxStream is the WorkQueue stream of everything that wakes an instance,
// plus the durable timer schedules that produce such wake-ups.
func (n Names) InboxStream() string { return "cairn-" + n.ns + "-inbox" }

// TasksStream is the WorkQueue stream of activity work items and of the
// schedules that publish delayed retries into it.
func (n Names) TasksStream() string { return "cairn-" + n.ns + "-tasks" }

// HistorySubject is the subject of one instance's history.
func (n Names) HistorySubject(instanceID string) string {
	return n.historyPrefix + EscapeToken(instanceID)
}

// HistoryWildcard matches the history of every instance of the namespace.
func (n Names) HistoryWildcard() string { return n.historyPrefix + ">" }

// InboxSlots is the number of slots an inbox is hashed into: every inbox
// subject carries the slot of its instance (InboxSlot), and a queue's
// partitions are sets of slots (InboxPartitionFilters), so publishers need
// not know how many partitions a queue has. It bounds a queue's partition
// count. Part of the wire format: changing it moves every instance.
const InboxSlots = 256

// InboxSlot is the slot of an instance: a stable hash (32-bit FNV-1a) of
// its escaped key, modulo InboxSlots.
func InboxSlot(instanceID string) int { return slotOfKey(EscapeToken(instanceID)) }

func slotOfKey(key string) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % InboxSlots)
}

// InboxSubject is where the engine publishes messages for one instance on
// one queue: cairn.<ns>.inbox.<queue>.<slot>.<key>. Clients and activity
// workers publish on the instance's subjects for their sender
// (ClientInboxSubject, ActivityInboxSubject), so that the server's
// permissions tell them apart.
func (n Names) InboxSubject(queue, instanceID string) string {
	key := EscapeToken(instanceID)
	return n.inboxPrefix + queue + "." + strconv.Itoa(slotOfKey(key)) + "." + key
}

// InboxSender is who publishes on an inbox subject, as the subject's last
// token says: the engine's subjects have none. The engine applies a message
// only if its sender may send its kind (a client cannot fire a timer, an
// activity worker can only report an activity's outcome), and the NATS
// roles (RolePermissions) let each sender publish on its own subjects
// only.
type InboxSender string

const (
	// SenderEngine: cairn.<ns>.inbox.<queue>.<slot>.<key>.
	SenderEngine InboxSender = ""
	// SenderClient: cairn.<ns>.inbox.<queue>.<slot>.<key>.client (start,
	// signal, cancel, terminate, pause, resume, reset, callbacks).
	SenderClient InboxSender = "client"
	// SenderActivity: cairn.<ns>.inbox.<queue>.<slot>.<key>.activity
	// (activity results and attempt timeouts).
	SenderActivity InboxSender = "activity"
)

// ClientInboxSubject is where clients publish messages for an instance.
func (n Names) ClientInboxSubject(queue, instanceID string) string {
	return n.InboxSubject(queue, instanceID) + "." + string(SenderClient)
}

// ActivityInboxSubject is where activity workers report the outcomes of an
// instance's activities: the reply subject of its tasks.
func (n Names) ActivityInboxSubject(queue, instanceID string) string {
	return n.InboxSubject(queue, instanceID) + "." + string(SenderActivity)
}

// InboxPartition is the partition, of partitions, that an instance's inbox
// belongs to.
func InboxPartition(instanceID string, partitions int) int {
	return InboxSlot(instanceID) % partitions
}

// InboxPartitionFilters are the subjects of partition p of a queue split
// into partitions: the slots s with s % partitions == p. They are the
// filters of that partition's workflow task consumer.
func (n Names) InboxPartitionFilters(queue string, p, partitions int) []string {
	var out []string
	for s := p; s < InboxSlots; s += partitions {
		out = append(out, n.inboxPrefix+queue+"."+strconv.Itoa(s)+".>")
	}
	return out
}

// InboxFilter matches the inbox of every instance on a queue.
func (n Names) InboxFilter(queue string) string {
	return n.inboxPrefix + queue + ".>"
}

// MembersSubject is the core NATS subject on which the workflow workers of
// a queue announce themselves (not stored).
func (n Names) MembersSubject(queue string) string {
	return "cairn." + n.ns + ".members." + queue
}

// InboxWildcard matches every inbox subject of the namespace.
func (n Names) InboxWildcard() string { return n.inboxPrefix + ">" }

// TimerSubject holds the schedule message of one durable timer. Each timer
// has its own subject because the server keeps at most one schedule per
// subject. No consumer may filter on timer subjects: acking a schedule
// message on a WorkQueue stream deletes it and so cancels the timer.
func (n Names) TimerSubject(instanceID, timerName string) string {
	return n.timerPrefix + EscapeToken(instanceID) + "." + EscapeToken(timerName)
}

// AttemptTimerSubject holds the engine timer of one attempt of an activity
// (its start-to-close and heartbeat timeouts), which the activity worker
// moves forward as it heartbeats: attempt.<key>.<run>.<activity id>.<attempt>.
// Attempt timers have a prefix of their own, apart from the engine's
// timers, so that activity workers may publish them and nothing else.
func (n Names) AttemptTimerSubject(instanceID, run, activityID string, attempt int) string {
	return n.attemptPrefix + EscapeToken(instanceID) + "." + run + "." + activityID + "." + strconv.Itoa(attempt)
}

// LegacyAttemptTimerSubject is where engines before the attempt prefix put
// an attempt's timer: timer.<key>.<run>.h<activity id>.<attempt>. Tasks
// dispatched by them still name it; no new task does.
func (n Names) LegacyAttemptTimerSubject(instanceID, run, activityID string, attempt int) string {
	return n.timerPrefix + EscapeToken(instanceID) + "." + run + ".h" + activityID + "." + strconv.Itoa(attempt)
}

// AttemptTimersFilter matches the attempt timers of one run of an
// instance (activityID "") or of every attempt of one of its activities.
func (n Names) AttemptTimersFilter(instanceID, run, activityID string) string {
	f := n.attemptPrefix + EscapeToken(instanceID) + "." + run + "."
	if activityID != "" {
		f += activityID + "."
	}
	return f + ">"
}

// IsTimerSubject reports whether subj is one of the engine's timers
// (TimerSubject; LegacyAttemptTimerSubject too).
func (n Names) IsTimerSubject(subj string) bool { return strings.HasPrefix(subj, n.timerPrefix) }

// IsAttemptTimerSubject reports whether subj is an attempt timer
// (AttemptTimerSubject).
func (n Names) IsAttemptTimerSubject(subj string) bool {
	return strings.HasPrefix(subj, n.attemptPrefix)
}

// AttemptTimerWildcard matches every attempt timer of the namespace.
func (n Names) AttemptTimerWildcard() string { return n.attemptPrefix + ">" }

// TimerInstanceFilter matches every timer of one instance, for purging them
// all when the instance ends.
func (n Names) TimerInstanceFilter(instanceID string) string {
	return n.timerPrefix + EscapeToken(instanceID) + ".>"
}

// TimerWildcard matches every timer subject of the namespace.
func (n Names) TimerWildcard() string { return n.timerPrefix + ">" }

// TaskSubject is the subject of work items of one activity type on a queue.
func (n Names) TaskSubject(queue, activityType string) string {
	return n.taskPrefix + queue + "." + EscapeToken(activityType)
}

// TaskWildcard matches every task subject of the namespace.
func (n Names) TaskWildcard() string { return n.taskPrefix + ">" }

// TaskDelaySubject holds the schedule that publishes a delayed retry of one
// activity of one run into its task subject.
func (n Names) TaskDelaySubject(instanceID, run, activityID string) string {
	return n.taskDelayPrefix + EscapeToken(instanceID) + "." + EscapeToken(run) + "." + EscapeToken(activityID)
}

// TaskDelayWildcard matches every task delay subject of the namespace.
func (n Names) TaskDelayWildcard() string { return n.taskDelayPrefix + ">" }

// RetentionScheduleSubject holds the schedule message that purges a closed
// instance when its retention period ends: one per instance, so a later
// close replaces an earlier run's schedule. It lives in the inbox stream
// because a schedule's target must be in its own stream.
func (n Names) RetentionScheduleSubject(instanceID string) string {
	return "cairn." + n.ns + ".retention.schedule." + EscapeToken(instanceID)
}

// RetentionDueSubject is the target of an instance's retention schedule: a
// message there asks the retention consumer to purge the instance.
func (n Names) RetentionDueSubject(instanceID string) string {
	return "cairn." + n.ns + ".retention.due." + EscapeToken(instanceID)
}

// RetentionDueFilter is the filter of the retention consumer. It must not
// match the schedule subjects: acking a schedule message cancels it.
func (n Names) RetentionDueFilter() string { return "cairn." + n.ns + ".retention.due.>" }

// ParseRetentionDueSubject returns the (unescaped) instance id of a
// retention due subject.
func (n Names) ParseRetentionDueSubject(subj string) (string, error) {
	tok, ok := strings.CutPrefix(subj, "cairn."+n.ns+".retention.due.")
	if !ok || tok == "" || strings.IndexByte(tok, '.') >= 0 {
		return "", fmt.Errorf("%w: %q: want cairn.%s.retention.due.<instance>", ErrInvalidSubject, subj, n.ns)
	}
	return UnescapeToken(tok)
}

// RetentionWildcard matches the retention subjects of the namespace.
func (n Names) RetentionWildcard() string { return "cairn." + n.ns + ".retention.>" }

// RetentionConsumer is the durable consumer name of the retention purger
// (one per namespace, shared by every worker).
func (n Names) RetentionConsumer() string { return "retention" }

// OrchestratorConsumer is the durable consumer name of partition p of a
// queue's workflow tasks. Consumer names are scoped to their stream, so the
// namespace is not repeated.
func (n Names) OrchestratorConsumer(queue string, p int) string {
	return "workflow-tasks-" + queue + "-" + strconv.Itoa(p)
}

// LegacyOrchestratorConsumer is the name of the single, unpartitioned
// workflow task consumer of earlier versions; its filter overlaps every
// partition's, so it is removed when the partitions are made.
func (n Names) LegacyOrchestratorConsumer(queue string) string { return "orchestrator-" + queue }

// ActivityConsumer is the durable consumer name of one activity type's
// workers on a queue.
func (n Names) ActivityConsumer(queue, activityType string) string {
	return "activity-" + queue + "-" + EscapeToken(activityType)
}

// InstancesBucket is the KV bucket of per-instance summaries.
func (n Names) InstancesBucket() string { return "cairn-" + n.ns + "-instances" }

// RegistryBucket is the KV bucket of every workflow and activity type ever
// registered, used to validate starts.
func (n Names) RegistryBucket() string { return "cairn-" + n.ns + "-registry" }

// WorkersBucket is the KV bucket of live workers; entries expire unless
// refreshed.
func (n Names) WorkersBucket() string { return "cairn-" + n.ns + "-workers" }

// TriggersBucket is the KV bucket of the namespace's CloudEvents triggers
// (package cloudevents).
func (n Names) TriggersBucket() string { return "cairn-" + n.ns + "-triggers" }

// DeadLetterStream holds the messages cairn took off its work queues
// without processing them (malformed, forged, or of a protocol it does not
// speak), each with the reason (docs/security.md).
func (n Names) DeadLetterStream() string { return "cairn-" + n.ns + "-deadletter" }

// DeadLetterSubject is the subject of the dead letters taken off one
// stream's work queue (source: "inbox", "tasks", "schedules").
func (n Names) DeadLetterSubject(source string) string {
	return "cairn." + n.ns + ".deadletter." + source
}

// DeadLetterWildcard matches every dead-letter subject of the namespace.
func (n Names) DeadLetterWildcard() string { return "cairn." + n.ns + ".deadletter.>" }

// SecretsBucket is the KV bucket of the namespace's secrets: the key that
// signs activity attempts (AttemptTokenKey). Only the engine role may read
// it (docs/security.md).
func (n Names) SecretsBucket() string { return "cairn-" + n.ns + "-secrets" }

// CallbacksBucket is the KV bucket of callback decisions: the first
// completion or failure of a callback creates its key, and the server
// refuses every other (docs/design/engine.md, Interaction). Entries expire
// after CallbacksMaxAge.
func (n Names) CallbacksBucket() string { return "cairn-" + n.ns + "-callbacks" }

// CallbackKey is the key of callback id of one run of an instance in the
// callbacks bucket: <instance>.<run>.<id>, each part a single token.
func (n Names) CallbackKey(instanceID, run string, id int64) string {
	return EscapeToken(instanceID) + "." + EscapeToken(run) + "." + strconv.FormatInt(id, 10)
}

// InstanceKey is the key of an instance in the instances bucket.
func (n Names) InstanceKey(instanceID string) string { return EscapeToken(instanceID) }

// RegistryKey is the key of a registered type: kind is RegistryKindWorkflow
// or RegistryKindActivity.
func (n Names) RegistryKey(kind, queue, typeName string) string {
	return kind + "." + queue + "." + EscapeToken(typeName)
}

// ParseInboxSubject splits an inbox subject of this namespace into its queue
// and (unescaped) instance id. A slot that is not the instance's is an
// error: it would hand the instance to a partition that does not own it.
// Errors wrap ErrInvalidSubject, or ErrInvalidToken / ErrInvalidName for a
// malformed part. The sender token is accepted; InboxSenderOf reads it.
func (n Names) ParseInboxSubject(subj string) (queue, instanceID string, err error) {
	queue, instanceID, _, err = n.parseInboxSubject(subj)
	return queue, instanceID, err
}

// InboxSenderOf parses an inbox subject like ParseInboxSubject and returns
// its sender too.
func (n Names) InboxSenderOf(subj string) (queue, instanceID string, sender InboxSender, err error) {
	return n.parseInboxSubject(subj)
}

func (n Names) parseInboxSubject(subj string) (queue, instanceID string, sender InboxSender, err error) {
	rest, ok := strings.CutPrefix(subj, n.inboxPrefix)
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q does not start with %q", ErrInvalidSubject, subj, n.inboxPrefix)
	}
	parts := strings.Split(rest, ".")
	if len(parts) == 4 {
		switch s := InboxSender(parts[3]); s {
		case SenderClient, SenderActivity:
			sender, parts = s, parts[:3]
		default:
			return "", "", "", fmt.Errorf("%w: %q: unknown sender %q", ErrInvalidSubject, subj, parts[3])
		}
	}
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: %q: want %s<queue>.<slot>.<instance>[.client|.activity]", ErrInvalidSubject, subj, n.inboxPrefix)
	}
	queue, slot, tok := parts[0], parts[1], parts[2]
	if err := ValidateQueue(queue); err != nil {
		return "", "", "", fmt.Errorf("%w: %q: %w", ErrInvalidSubject, subj, err)
	}
	instanceID, err = UnescapeToken(tok)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: %q: %w", ErrInvalidSubject, subj, err)
	}
	if want := strconv.Itoa(InboxSlot(instanceID)); slot != want {
		return "", "", "", fmt.Errorf("%w: %q: slot %q, the instance's is %s", ErrInvalidSubject, subj, slot, want)
	}
	return queue, instanceID, sender, nil
}

// InboxInstanceSubject is an inbox subject without its sender token: the
// engine's subject of the same instance, which every message of the
// instance is grouped and ordered by. Other subjects are returned as they
// are.
func (n Names) InboxInstanceSubject(subj string) string {
	rest, ok := strings.CutPrefix(subj, n.inboxPrefix)
	if !ok || strings.Count(rest, ".") != 3 {
		return subj
	}
	return subj[:strings.LastIndexByte(subj, '.')]
}
