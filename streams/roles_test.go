package streams

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestRolePermissions: each role's allow lists, read as a NATS server
// matches subjects. The enforcement itself is tested against a real server
// in internal/e2e (roles_test.go).
func TestRolePermissions(t *testing.T) {
	n := NewNames("ns")
	perms := map[Role]Permissions{}
	for _, r := range Roles {
		p, err := RolePermissions(r, "ns")
		if err != nil {
			t.Fatal(err)
		}
		perms[r] = p
	}
	inbox := n.InboxSubject("q", "order-1")
	for _, tc := range []struct {
		role    Role
		subject string
		pub     bool
	}{
		{RoleAdmin, "$JS.API.STREAM.CREATE.anything", true},
		{RoleEngine, n.HistorySubject("order-1"), true},
		{RoleEngine, inbox, true},
		{RoleEngine, n.TimerSubject("order-1", "t1"), true},
		{RoleEngine, "$KV." + n.InstancesBucket() + ".order-1", true},
		{RoleEngine, "$JS.API.DIRECT.GET.KV_" + n.SecretsBucket() + ".$KV." + n.SecretsBucket() + ".attempt-token-key", true},
		{RoleEngine, "$KV." + n.SecretsBucket() + ".attempt-token-key", false},
		{RoleEngine, "$JS.API.STREAM.CREATE." + n.HistoryStream(), false},
		{RoleEngine, "$JS.API.STREAM.DELETE." + n.HistoryStream(), false},
		{RoleEngine, "cairn.other.inbox.q.1.a", false},
		{RoleActivity, n.ActivityInboxSubject("q", "order-1"), true},
		{RoleActivity, n.AttemptTimerSubject("order-1", "r", "3", 1), true},
		{RoleActivity, "$JS.ACK." + n.TasksStream() + ".activity-q-Charge.1.2.3.4.5.6", true},
		{RoleActivity, "$JS.API.DIRECT.GET." + n.InboxStream() + "." + n.AttemptTimerSubject("order-1", "r", "3", 1), true},
		{RoleActivity, "$JS.API.DIRECT.GET." + n.InboxStream() + "." + inbox, false},
		{RoleActivity, "$JS.API.DIRECT.GET." + n.InboxStream(), false},
		{RoleActivity, inbox, false},
		{RoleActivity, n.ClientInboxSubject("q", "order-1"), false},
		{RoleActivity, n.HistorySubject("order-1"), false},
		{RoleActivity, n.TimerSubject("order-1", "t1"), false},
		{RoleActivity, "$KV." + n.RegistryBucket() + ".activity.q.Charge", true},
		{RoleActivity, "$KV." + n.RegistryBucket() + ".workflow.q.Order", false},
		{RoleActivity, "$KV." + n.InstancesBucket() + ".order-1", false},
		{RoleActivity, "$JS.API.STREAM.MSG.DELETE." + n.HistoryStream(), false},
		{RoleActivity, "$JS.API.STREAM.PURGE." + n.InboxStream(), false},
		{RoleClient, n.ClientInboxSubject("q", "order-1"), true},
		{RoleClient, n.HistorySubject("order-1"), false},
		{RoleIngress, n.HistorySubject("order-1"), false},
		{RoleClient, inbox, false},
		{RoleClient, n.ActivityInboxSubject("q", "order-1"), false},
		{RoleClient, n.TimerSubject("order-1", "t1"), false},
		{RoleClient, n.AttemptTimerSubject("order-1", "r", "3", 1), false},
		{RoleClient, "$JS.API.STREAM.PURGE." + n.HistoryStream(), false},
		{RoleClient, "$JS.API.DIRECT.GET.KV_" + n.SecretsBucket(), false},
		{RoleIngress, n.ClientInboxSubject("q", "order-1"), true},
		{RoleIngress, "cairn.ns.events.rejected", true},
		{RoleIngress, "$KV." + n.CallbacksBucket() + ".x", false},
	} {
		if got := matchesAny(perms[tc.role].Publish, tc.subject); got != tc.pub {
			t.Errorf("role %s publish %q: allowed %v, want %v", tc.role, tc.subject, got, tc.pub)
		}
	}
	for _, r := range Roles {
		p := perms[r]
		if r != RoleAdmin && matchesAny(p.Subscribe, "_INBOX.x") {
			t.Errorf("role %s may subscribe to other connections' inboxes", r)
		}
		for _, other := range Roles {
			if other != r && other != RoleAdmin && matchesAny(p.Subscribe, RoleInboxPrefix(other, "ns")+".x") && r != RoleAdmin {
				t.Errorf("role %s may subscribe to role %s's inbox", r, other)
			}
		}
		if !matchesAny(p.Subscribe, p.InboxPrefix+".abc.*") && !matchesAny(p.Subscribe, p.InboxPrefix+".abc.def") {
			t.Errorf("role %s may not subscribe to its own inbox %s", r, p.InboxPrefix)
		}
	}
	if _, err := RolePermissions("root", "ns"); !errors.Is(err, ErrUnknownRole) {
		t.Fatalf("unknown role: %v", err)
	}
	if _, err := RolePermissions(RoleEngine, "a.b"); err == nil {
		t.Fatal("invalid namespace accepted")
	}
}

// matchesAny reports whether a NATS subject is matched by one of the
// patterns (* one token, > one or more at the end).
func matchesAny(patterns []string, subject string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return subjectMatches(p, subject) })
}

func subjectMatches(pattern, subject string) bool {
	pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range pt {
		if tok == ">" {
			return len(st) > i
		}
		if i >= len(st) || (tok != "*" && tok != st[i]) {
			return false
		}
	}
	return len(pt) == len(st)
}

// TestClientManagesSchedules: the client role creates, pauses, triggers
// and deletes schedules (cairn schedule), which publishes schedule
// messages and fires and purges the schedules stream.
func TestClientManagesSchedules(t *testing.T) {
	n := NewNames("ns")
	p, err := RolePermissions(RoleClient, "ns")
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{n.ScheduleSubject("s1"), n.ScheduleFireSubject("s1"), "$JS.API.STREAM.PURGE." + n.SchedulesStream(),
		"$KV." + n.SchedulesBucket() + ".s1"} {
		if !matchesAny(p.Publish, subj) {
			t.Errorf("client may not publish %q", subj)
		}
	}
}
