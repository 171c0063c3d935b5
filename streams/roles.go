package streams

import (
	"fmt"
	"slices"
)

// Role is a set of NATS permissions for one kind of cairn process in one
// namespace, enforced by the NATS server (RolePermissions). Give each
// process the least role that does its job.
type Role string

const (
	// RoleAdmin provisions namespaces (streams, buckets, the attempt
	// token key) and runs operator commands that delete: purge, dead
	// letters, trigger changes. It may do anything.
	RoleAdmin Role = "admin"
	// RoleEngine runs workflows: cairn server, cairn dev and Go workers
	// with workflows. It reads and writes the namespace's streams and
	// buckets and reads the attempt token key; it cannot create, change
	// or delete streams, or change the key.
	RoleEngine Role = "engine"
	// RoleActivity runs activities: it takes the namespace's activity
	// tasks, reports their outcomes on the activity subjects of inboxes,
	// arms attempt timers, and registers activity types and itself. It
	// cannot write history, fire timers or timeouts, send anything else to
	// an instance, or write any other key-value bucket.
	RoleActivity Role = "activity"
	// RoleClient starts, signals, queries, cancels, terminates, pauses,
	// resets, completes callbacks, manages schedules, sends CloudEvents,
	// and reads everything but secrets. It sends to instances on their
	// client subjects only and never writes history: its client hands
	// starts, terminates and resets to the engine
	// (client.WithoutHistoryWrites).
	RoleClient Role = "client"
	// RoleIngress serves CloudEvents (cairn events): it takes events,
	// starts and signals like a client (WithoutHistoryWrites), and replies.
	RoleIngress Role = "ingress"
)

// Roles lists every role, least privileged last.
var Roles = []Role{RoleAdmin, RoleEngine, RoleIngress, RoleClient, RoleActivity}

// Permissions are the NATS permissions of a role in one namespace, as
// nats-server configures a user's: the subjects it may publish to and
// subscribe to (allow lists; everything else is denied), and whether it may
// reply to requests it receives. InboxPrefix is the inbox prefix its
// connections must use (nats.CustomInboxPrefix, cairn's --inbox-prefix):
// replies come there, and no other role may subscribe to it, so nobody
// else reads what the role is told (the engine reads the attempt token
// key).
type Permissions struct {
	Role           Role     `json:"role"`
	Namespace      string   `json:"namespace"`
	InboxPrefix    string   `json:"inbox_prefix"`
	Publish        []string `json:"publish"`
	Subscribe      []string `json:"subscribe"`
	AllowResponses bool     `json:"allow_responses"`
}

// ErrUnknownRole is returned by RolePermissions for a role it does not know.
var ErrUnknownRole = fmt.Errorf("unknown role: want one of %v", Roles)

// RoleInboxPrefix is the inbox prefix of a role's connections in namespace
// ns (Permissions.InboxPrefix): _INBOX for admin, else
// _INBOX.cairn.<ns>.<role>.
func RoleInboxPrefix(role Role, ns string) string {
	if role == RoleAdmin {
		return "_INBOX"
	}
	return "_INBOX.cairn." + ns + "." + string(role)
}

// RolePermissions returns the permissions of role in namespace ns.
//
// JetStream is reached through subjects too: the API ($JS.API.>), acks
// ($JS.ACK.>), flow control ($JS.FC.>) and key-value writes ($KV.>). A
// role gets the API calls it needs on its namespace's streams and buckets
// by name, never the calls that create, update or delete a stream.
func RolePermissions(role Role, ns string) (Permissions, error) {
	if err := ValidateNamespace(ns); err != nil {
		return Permissions{}, err
	}
	n := NewNames(ns)
	p := Permissions{Role: role, Namespace: ns, InboxPrefix: RoleInboxPrefix(role, ns)}
	if role == RoleAdmin {
		p.Publish, p.Subscribe, p.AllowResponses = []string{">"}, []string{">"}, true
		return p, nil
	}
	kv := func(bucket string) string { return "KV_" + bucket }
	var (
		history, inbox, tasks = n.HistoryStream(), n.InboxStream(), n.TasksStream()
		instances, registry   = n.InstancesBucket(), n.RegistryBucket()
		workers, callbacks    = n.WorkersBucket(), n.CallbacksBucket()
		schedules, triggers   = n.SchedulesBucket(), n.TriggersBucket()
		secrets               = n.SecretsBucket()
	)
	b := &permBuilder{}
	// Every role may look at every stream and bucket of its namespace
	// (configuration and counts, no messages): provisioning checks the
	// layout with it (Ensure).
	b.pub("$JS.API.INFO")
	for _, s := range []string{history, inbox, tasks, n.DeadLetterStream(), n.SchedulesStream(),
		kv(instances), kv(registry), kv(workers), kv(callbacks), kv(schedules), kv(triggers), kv(secrets)} {
		b.pub("$JS.API.STREAM.INFO." + s)
	}
	b.sub(p.InboxPrefix + ".>")

	switch role {
	case RoleEngine:
		p.AllowResponses = true // queries
		b.pub("cairn." + ns + ".>")
		b.sub("cairn." + ns + ".>")
		for _, s := range []string{history, inbox, tasks, n.SchedulesStream()} {
			b.read(s)
			b.consume(s)
			b.pub("$JS.API.STREAM.PURGE."+s, "$JS.API.STREAM.MSG.DELETE."+s)
		}
		// Triggers too: cairn server loads its --triggers file.
		for _, bucket := range []string{instances, registry, workers, callbacks, schedules, triggers} {
			b.read(kv(bucket))
			b.consume(kv(bucket))
			b.pub("$KV." + bucket + ".>")
		}
		b.read(kv(secrets)) // the attempt token key: read, never written
	case RoleActivity:
		b.pub(n.inboxPrefix+"*.*.*."+string(SenderActivity),
			n.AttemptTimerWildcard(), n.DeadLetterSubject("tasks"),
			"$KV."+registry+".activity.>", "$KV."+workers+".>")
		b.sub("cairn." + ns + ".activity.cancel.>")
		b.consume(tasks)
		// The engine's closed mark of an attempt, on its timer's subject:
		// the last message of attempt timer subjects only.
		b.pub("$JS.API.DIRECT.GET." + inbox + "." + n.AttemptTimerWildcard())
		b.read(kv(registry))
		b.read(kv(workers))
	case RoleClient, RoleIngress:
		// No history: starts, terminates and resets go through the engine
		// (client.WithoutHistoryWrites).
		b.pub(n.inboxPrefix+"*.*.*."+string(SenderClient), "$KV."+instances+".>")
		b.read(history)
		b.consume(history)
		b.sub(n.HistoryWildcard()) // a result is awaited by watching the history subject
		for _, bucket := range []string{instances, registry, workers, triggers} {
			b.read(kv(bucket))
			b.consume(kv(bucket))
		}
		if role == RoleIngress {
			p.AllowResponses = true // replies to events sent as requests
			b.sub("cairn." + ns + ".events.>")
			b.pub("cairn." + ns + ".events.rejected")
			break
		}
		b.pub("cairn."+ns+".query.>", "cairn."+ns+".events.>", "$KV."+callbacks+".>", "$KV."+schedules+".>")
		for _, bucket := range []string{callbacks, schedules} {
			b.read(kv(bucket))
			b.consume(kv(bucket))
		}
		// Task queues' backlogs: the counts of the consumers of inboxes and
		// tasks (client.TaskQueues).
		b.pub("$JS.API.CONSUMER.LIST."+inbox, "$JS.API.CONSUMER.LIST."+tasks)
		// Schedules: their repeating messages, fires for a trigger, and
		// purges of a paused or deleted schedule's message. A purge
		// request cannot be limited to one subject by permissions.
		b.pub(n.ScheduleWildcard(), "cairn."+ns+".schedulefire.>", "$JS.API.STREAM.PURGE."+n.SchedulesStream())
		b.read(n.SchedulesStream())
	default:
		return Permissions{}, fmt.Errorf("%w: %q", ErrUnknownRole, role)
	}
	p.Publish, p.Subscribe = b.publish, b.subscribe
	return p, nil
}

// permBuilder collects allow lists without duplicates, in order.
type permBuilder struct{ publish, subscribe []string }

func (b *permBuilder) pub(subjects ...string) {
	for _, s := range subjects {
		if !slices.Contains(b.publish, s) {
			b.publish = append(b.publish, s)
		}
	}
}

func (b *permBuilder) sub(subjects ...string) {
	for _, s := range subjects {
		if !slices.Contains(b.subscribe, s) {
			b.subscribe = append(b.subscribe, s)
		}
	}
}

// read allows getting messages of stream s: direct gets (any replica) and
// gets from the leader.
func (b *permBuilder) read(s string) {
	b.pub("$JS.API.DIRECT.GET."+s, "$JS.API.DIRECT.GET."+s+".>", "$JS.API.STREAM.MSG.GET."+s)
}

// consume allows making, reading, acknowledging, unpinning and deleting
// consumers of stream s: durable ones, and the ordered consumers of
// watchers and listings, which delete themselves. NATS cannot tell a
// role's own consumers from others of the same stream, so a role that
// consumes a stream can also delete its other consumers (they are made
// again by their processes; nothing stored is lost).
func (b *permBuilder) consume(s string) {
	b.pub("$JS.API.CONSUMER.CREATE."+s+".>", "$JS.API.CONSUMER.DURABLE.CREATE."+s+".>",
		"$JS.API.CONSUMER.INFO."+s+".>", "$JS.API.CONSUMER.MSG.NEXT."+s+".>",
		"$JS.API.CONSUMER.DELETE."+s+".>", "$JS.API.CONSUMER.UNPIN."+s+".>",
		"$JS.API.CONSUMER.LIST."+s, "$JS.API.CONSUMER.NAMES."+s,
		"$JS.ACK."+s+".>", "$JS.FC."+s+".>")
}
