package streams

import (
	"errors"
	"testing"
)

// Fuzz targets of the id escaping and of the subject parsers: instance ids
// come from clients and CloudEvents, subjects from whoever can publish to
// the namespace. .ci/fuzz runs every target for a few seconds.

// FuzzEscapeToken checks that escaping round trips, is injective and always
// yields one valid subject token.
func FuzzEscapeToken(f *testing.F) {
	for _, s := range []string{"", "order-42", "=", "=3D", "a.b", "orders.>", "*", "id with spaces", "é", "\x00\xff", "=41", "a\r\nb"} {
		f.Add(s, "order-42")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, tb := EscapeToken(a), EscapeToken(b)
		checkToken(t, a, ta)
		got, err := UnescapeToken(ta)
		if err != nil || got != a {
			t.Fatalf("UnescapeToken(EscapeToken(%q) = %q) = %q, %v", a, ta, got, err)
		}
		if a != b && ta == tb {
			t.Fatalf("EscapeToken(%q) == EscapeToken(%q) == %q", a, b, ta)
		}
	})
}

// FuzzUnescapeToken checks that every token UnescapeToken accepts is the
// canonical escaped form of what it returns, and that it rejects the rest
// with ErrInvalidToken: two subjects never name the same instance.
func FuzzUnescapeToken(f *testing.F) {
	for _, s := range []string{"=", "", "order-42", "a=2Eb", "a=2eb", "=41", "=3", "=3D=3D", "a.b", "=E2=82=AC", "=ZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		s, err := UnescapeToken(tok)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("UnescapeToken(%q): error %v does not wrap ErrInvalidToken", tok, err)
			}
			return
		}
		if again := EscapeToken(s); again != tok {
			t.Fatalf("UnescapeToken(%q) = %q, which escapes to %q", tok, s, again)
		}
	})
}

// FuzzParseInboxSubject checks that a subject the parser accepts is exactly
// the inbox subject of what it returns (so a message cannot reach an
// instance under a second spelling or through another partition's slot), and
// that rejections wrap ErrInvalidSubject.
func FuzzParseInboxSubject(f *testing.F) {
	n := NewNames("default")
	for _, c := range [][2]string{{"default", "order-42"}, {"payments", ""}, {"q", "a.b c"}, {"default", "é=>*"}} {
		f.Add(n.InboxSubject(c[0], c[1]))
	}
	f.Add("cairn.default.inbox.default.0.x")
	f.Add("cairn.default.inbox.default.7.=41")
	f.Add("cairn.other.inbox.default.1.x")
	f.Add("cairn.default.inbox.a.b.c.d")
	f.Add(n.ClientInboxSubject("default", "order-42"))
	f.Add(n.ActivityInboxSubject("q", "client"))
	f.Add("cairn.default.inbox.default.0.x.engine")
	f.Fuzz(func(t *testing.T, subj string) {
		queue, id, sender, err := n.InboxSenderOf(subj)
		if err != nil {
			if !errors.Is(err, ErrInvalidSubject) {
				t.Fatalf("InboxSenderOf(%q): error %v does not wrap ErrInvalidSubject", subj, err)
			}
			return
		}
		if ValidateQueue(queue) != nil {
			t.Fatalf("InboxSenderOf(%q) gave the invalid queue %q", subj, queue)
		}
		again := n.InboxSubject(queue, id)
		switch sender {
		case SenderClient:
			again = n.ClientInboxSubject(queue, id)
		case SenderActivity:
			again = n.ActivityInboxSubject(queue, id)
		}
		if again != subj {
			t.Fatalf("InboxSenderOf(%q) = %q, %q, %q, which builds %q", subj, queue, id, sender, again)
		}
		if base := n.InboxInstanceSubject(subj); base != n.InboxSubject(queue, id) {
			t.Fatalf("InboxInstanceSubject(%q) = %q, want %q", subj, base, n.InboxSubject(queue, id))
		}
		if !n.inboxReadable(subj) {
			t.Fatalf("%q parses but no partition consumer reads it", subj)
		}
	})
}

// FuzzInboxSubjectRoundTrip checks that every instance id on every valid
// queue parses back from its inbox subject.
func FuzzInboxSubjectRoundTrip(f *testing.F) {
	f.Add("default", "order-42")
	f.Add("payments", "")
	f.Add("q_1", "a.b>c*")
	f.Fuzz(func(t *testing.T, queue, id string) {
		if ValidateQueue(queue) != nil {
			return
		}
		n := NewNames("default")
		subj := n.InboxSubject(queue, id)
		q, got, err := n.ParseInboxSubject(subj)
		if err != nil || q != queue || got != id {
			t.Fatalf("ParseInboxSubject(InboxSubject(%q, %q) = %q) = %q, %q, %v", queue, id, subj, q, got, err)
		}
	})
}

// FuzzParseRetentionDueSubject checks that an accepted retention subject is
// exactly the one of the instance it names; rejections wrap
// ErrInvalidSubject or ErrInvalidToken.
func FuzzParseRetentionDueSubject(f *testing.F) {
	n := NewNames("default")
	f.Add(n.RetentionDueSubject("order-42"))
	f.Add(n.RetentionDueSubject(""))
	f.Add(n.RetentionDueSubject("a.b"))
	f.Add("cairn.default.retention.due.")
	f.Add("cairn.default.retention.due.a.b")
	f.Fuzz(func(t *testing.T, subj string) {
		id, err := n.ParseRetentionDueSubject(subj)
		if err != nil {
			if !errors.Is(err, ErrInvalidSubject) && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("ParseRetentionDueSubject(%q): untyped error %v", subj, err)
			}
			return
		}
		if again := n.RetentionDueSubject(id); again != subj {
			t.Fatalf("ParseRetentionDueSubject(%q) = %q, which builds %q", subj, id, again)
		}
	})
}
