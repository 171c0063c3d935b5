package streams

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestValidateNames(t *testing.T) {
	good := []string{"default", "a", "A-b_9", strings.Repeat("x", 64)}
	bad := []string{"", "a.b", "a b", "a*", "a>", "é", "a/b", strings.Repeat("x", 65)}
	for _, s := range good {
		if err := ValidateNamespace(s); err != nil {
			t.Errorf("ValidateNamespace(%q) = %v", s, err)
		}
		if err := ValidateQueue(s); err != nil {
			t.Errorf("ValidateQueue(%q) = %v", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidateNamespace(s); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateNamespace(%q) = %v, want ErrInvalidName", s, err)
		}
		if err := ValidateQueue(s); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateQueue(%q) = %v, want ErrInvalidName", s, err)
		}
	}
}

func TestNames(t *testing.T) {
	n := NewNames("prod")
	id := "order.1 é"
	eid := "order=2E1=20=C3=A9"
	tests := []struct{ got, want string }{
		{n.Namespace(), "prod"},
		{n.HistoryStream(), "cairn-prod-history"},
		{n.InboxStream(), "cairn-prod-inbox"},
		{n.TasksStream(), "cairn-prod-tasks"},
		{n.HistorySubject(id), "cairn.prod.history." + eid},
		{n.HistoryWildcard(), "cairn.prod.history.>"},
		{n.InboxSubject("q1", id), "cairn.prod.inbox.q1." + strconv.Itoa(InboxSlot(id)) + "." + eid},
		{n.InboxFilter("q1"), "cairn.prod.inbox.q1.>"},
		{n.InboxWildcard(), "cairn.prod.inbox.>"},
		{n.TimerSubject(id, "t.1"), "cairn.prod.timer." + eid + ".t=2E1"},
		{n.TimerInstanceFilter(id), "cairn.prod.timer." + eid + ".>"},
		{n.TimerWildcard(), "cairn.prod.timer.>"},
		{n.TaskSubject("q1", "Charge.Card"), "cairn.prod.task.q1.Charge=2ECard"},
		{n.TaskWildcard(), "cairn.prod.task.>"},
		{n.TaskDelaySubject(id, "run-1", "act.3"), "cairn.prod.taskdelay." + eid + ".run-1.act=2E3"},
		{n.TaskDelayWildcard(), "cairn.prod.taskdelay.>"},
		{n.OrchestratorConsumer("q1", 3), "workflow-tasks-q1-3"},
		{n.LegacyOrchestratorConsumer("q1"), "orchestrator-q1"},
		{n.MembersSubject("q1"), "cairn.prod.members.q1"},
		{n.ActivityConsumer("q1", "Charge.Card"), "activity-q1-Charge=2ECard"},
		{n.InstancesBucket(), "cairn-prod-instances"},
		{n.RegistryBucket(), "cairn-prod-registry"},
		{n.WorkersBucket(), "cairn-prod-workers"},
		{n.CallbacksBucket(), "cairn-prod-callbacks"},
		{n.CallbackKey("order.1", "run", 3), "order=2E1.run.3"},
		{n.InstanceKey(id), eid},
		{n.RegistryKey(RegistryKindWorkflow, "q1", "pkg.Flow"), "workflow.q1.pkg=2EFlow"},
		{n.RegistryKey(RegistryKindActivity, "q1", ""), "activity.q1.="},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("#%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestParseInboxSubject(t *testing.T) {
	n := NewNames("prod")
	for _, id := range []string{"", "a", "a.b.c", "=", "ünï cödé", ">"} {
		q, got, err := n.ParseInboxSubject(n.InboxSubject("q_1", id))
		if err != nil || q != "q_1" || got != id {
			t.Errorf("ParseInboxSubject(InboxSubject(q_1, %q)) = %q, %q, %v", id, q, got, err)
		}
	}
	for _, subj := range []string{
		"",
		"cairn.prod.inbox",
		"cairn.prod.inbox.q1",
		"cairn.prod.inbox.q1.",
		"cairn.prod.inbox.q1.a.b",
		"cairn.other.inbox.q1.a",
		"cairn.prod.history.a",
		"cairn.prod.inbox..a",
		"cairn.prod.inbox.q1.=41",
		"cairn.prod.inbox.q1.a",
		"cairn.prod.inbox.q1.0.a.b",
		"cairn.prod.inbox.q1.x.a",
		// a is in slot 44: any other slot would hand it to a partition
		// that does not own it.
		"cairn.prod.inbox.q1.43.a",
		// Senders are client and activity only, one token, last.
		"cairn.prod.inbox.q1.44.a.engine",
		"cairn.prod.inbox.q1.44.a.client.client",
		"cairn.prod.inbox.q1.43.a.client",
	} {
		if _, _, err := n.ParseInboxSubject(subj); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("ParseInboxSubject(%q) = %v, want ErrInvalidSubject", subj, err)
		}
	}
}

// TestInboxSenders: an instance's three inbox subjects parse to the same
// queue and instance, each with its sender, and share the engine's subject
// as their instance subject, whatever the id (even "client").
func TestInboxSenders(t *testing.T) {
	n := NewNames("prod")
	for _, id := range []string{"a", "client", "activity", "x.client", "ünï"} {
		base := n.InboxSubject("q", id)
		for subj, want := range map[string]InboxSender{
			base:                            SenderEngine,
			n.ClientInboxSubject("q", id):   SenderClient,
			n.ActivityInboxSubject("q", id): SenderActivity,
		} {
			q, got, sender, err := n.InboxSenderOf(subj)
			if err != nil || q != "q" || got != id || sender != want {
				t.Errorf("InboxSenderOf(%q) = %q, %q, %q, %v; want q, %q, %q", subj, q, got, sender, err, id, want)
			}
			if inst := n.InboxInstanceSubject(subj); inst != base {
				t.Errorf("InboxInstanceSubject(%q) = %q, want %q", subj, inst, base)
			}
		}
	}
	for _, other := range []string{"cairn.prod.history.a", "cairn.prod.inbox.q.44", "cairn.other.inbox.q.44.a.client"} {
		if got := n.InboxInstanceSubject(other); got != other {
			t.Errorf("InboxInstanceSubject(%q) = %q, want it unchanged", other, got)
		}
	}
}

// TestAttemptTimerSubjects: attempt timers have their own prefix, apart
// from the engine's timers, and the filters of a run and of an activity
// match them.
func TestAttemptTimerSubjects(t *testing.T) {
	n := NewNames("prod")
	subj := n.AttemptTimerSubject("o/1", "r1", "3", 2)
	if subj != "cairn.prod.attempt.o=2F1.r1.3.2" || !n.IsAttemptTimerSubject(subj) || n.IsTimerSubject(subj) {
		t.Fatalf("AttemptTimerSubject = %q", subj)
	}
	if legacy := n.LegacyAttemptTimerSubject("o/1", "r1", "3", 2); legacy != "cairn.prod.timer.o=2F1.r1.h3.2" || !n.IsTimerSubject(legacy) {
		t.Fatalf("LegacyAttemptTimerSubject = %q", legacy)
	}
	if f := n.AttemptTimersFilter("o/1", "r1", ""); f != "cairn.prod.attempt.o=2F1.r1.>" {
		t.Fatalf("run filter %q", f)
	}
	if f := n.AttemptTimersFilter("o/1", "r1", "3"); f != "cairn.prod.attempt.o=2F1.r1.3.>" {
		t.Fatalf("activity filter %q", f)
	}
}

// TestInboxSlotsAreStable pins the slot hash: it is part of the wire
// format, and a change would move every instance to another partition.
func TestInboxSlotsAreStable(t *testing.T) {
	for id, want := range map[string]int{"a": 44, "order-1": InboxSlot("order-1")} {
		if got := InboxSlot(id); got != want {
			t.Errorf("InboxSlot(%q) = %d, want %d", id, got, want)
		}
	}
}

func TestInboxPartitionFiltersCoverEverySlotOnce(t *testing.T) {
	n := NewNames("prod")
	for _, parts := range []int{1, 3, 16, InboxSlots} {
		seen := map[string]int{}
		for p := range parts {
			for _, f := range n.InboxPartitionFilters("q", p, parts) {
				seen[f]++
			}
		}
		if len(seen) != InboxSlots {
			t.Fatalf("%d partitions cover %d slots, want %d", parts, len(seen), InboxSlots)
		}
		for f, k := range seen {
			if k != 1 {
				t.Fatalf("%d partitions: %s in %d partitions", parts, f, k)
			}
		}
	}
	id := "order-7"
	p := InboxPartition(id, 16)
	subj := n.InboxSubject("q", id)
	want := "cairn.prod.inbox.q." + strconv.Itoa(InboxSlot(id)) + ".>"
	if !slices.Contains(n.InboxPartitionFilters("q", p, 16), want) || !strings.HasPrefix(subj, strings.TrimSuffix(want, ">")) {
		t.Fatalf("%s is not in its partition %d's filters", subj, p)
	}
}
