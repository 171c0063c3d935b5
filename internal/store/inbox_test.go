package store

import (
	"errors"
	"testing"
)

// TestParseInboxRefusesHeadersThatAreNotUTF8: a signal whose name is not
// valid UTF-8 would be stored with U+FFFD in its place, so a replay would
// route it to another channel than the live task did: it is malformed.
func TestParseInboxRefusesHeadersThatAreNotUTF8(t *testing.T) {
	ok := NewSignal("s", "k", "r1", "approve", "sig-1", []byte(`true`))
	if _, err := ParseInbox(ok.Header, ok.Data); err != nil {
		t.Fatalf("a valid signal: %v", err)
	}
	for name, id := range map[string]string{"appr\xffove": "sig-1", "approve": "sig-\xc3"} {
		m := NewSignal("s", "k", "r1", name, id, []byte(`true`))
		if _, err := ParseInbox(m.Header, m.Data); !errors.Is(err, ErrMalformedInbox) {
			t.Errorf("signal %q id %q: %v, want ErrMalformedInbox", name, id, err)
		}
	}
}
