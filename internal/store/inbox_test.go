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

// TestParseRequests: terminate and reset requests carry what the engine
// needs to carry them out; a reset request whose new run is not the one
// its header names is malformed.
func TestParseRequests(t *testing.T) {
	in, err := ParseInbox(NewTerminateRequest("s", "k", "r1", "enough").Header, nil)
	if err != nil || in.Kind != KindTerminateRequest || in.Run != "r1" || in.Reason != "enough" {
		t.Fatalf("terminate request: %+v, %v", in, err)
	}
	m, err := NewResetRequest("s", "k", ResetRequest{WorkflowID: "k", EventSeq: 4, Reason: "again", NewRun: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	in, err = ParseInbox(m.Header, m.Data)
	if err != nil || in.Kind != KindResetRequest || in.Run != "r2" || in.Reset == nil || in.Reset.EventSeq != 4 || in.Reset.WorkflowID != "k" {
		t.Fatalf("reset request: %+v, %v", in, err)
	}
	m.Header.Set(HeaderRun, "r3")
	if _, err := ParseInbox(m.Header, m.Data); !errors.Is(err, ErrMalformedInbox) {
		t.Fatalf("reset request for another run: %v", err)
	}
	m.Header.Set(HeaderRun, "r2")
	if _, err := ParseInbox(m.Header, []byte(`{`)); !errors.Is(err, ErrMalformedInbox) {
		t.Fatalf("reset request with a broken body: %v", err)
	}
}
