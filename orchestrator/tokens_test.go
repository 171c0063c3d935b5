package orchestrator

import "testing"

// TestAttemptTokens: a token is valid for the one attempt it was made for,
// under the key it was made with; without a key nothing is valid.
func TestAttemptTokens(t *testing.T) {
	a := attemptTokens{ns: "ns", key: []byte("0123456789abcdef0123456789abcdef")}
	tok := a.token("wf", "r1", "3", 1)
	if !a.valid("wf", "r1", "3", 1, tok) {
		t.Fatal("the attempt's own token is refused")
	}
	for name, ok := range map[string]bool{
		"another attempt":   a.valid("wf", "r1", "3", 2, tok),
		"another activity":  a.valid("wf", "r1", "4", 1, tok),
		"another run":       a.valid("wf", "r2", "3", 1, tok),
		"another workflow":  a.valid("wf2", "r1", "3", 1, tok),
		"fields run into":   a.valid("w", "fr1", "3", 1, tok),
		"no token":          a.valid("wf", "r1", "3", 1, ""),
		"a truncated token": a.valid("wf", "r1", "3", 1, tok[:len(tok)-1]),
		"another namespace": attemptTokens{ns: "ns2", key: a.key}.valid("wf", "r1", "3", 1, tok),
		"another key":       attemptTokens{ns: "ns", key: []byte("fedcba9876543210fedcba9876543210")}.valid("wf", "r1", "3", 1, tok),
		"no key":            attemptTokens{ns: "ns"}.valid("wf", "r1", "3", 1, tok),
	} {
		if ok {
			t.Errorf("%s: token accepted", name)
		}
	}
	if got := (attemptTokens{ns: "ns"}).token("wf", "r1", "3", 1); got != "" {
		t.Errorf("token without a key: %q", got)
	}
}

// TestTimerTokens: a timer's token is valid for that timer of that run
// only, and never as an attempt's token (nor the reverse).
func TestTimerTokens(t *testing.T) {
	a := attemptTokens{ns: "ns", key: []byte("0123456789abcdef0123456789abcdef")}
	tok := a.timer("wf", "r1", "t3")
	if !a.validTimer("wf", "r1", "t3", tok) {
		t.Fatal("the timer's own token is refused")
	}
	for name, ok := range map[string]bool{
		"another timer":             a.validTimer("wf", "r1", "t4", tok),
		"another run":               a.validTimer("wf", "r2", "t3", tok),
		"another workflow":          a.validTimer("wf2", "r1", "t3", tok),
		"no token":                  a.validTimer("wf", "r1", "t3", ""),
		"an attempt's as a timer's": a.validTimer("wf", "r1", "3", a.token("wf", "r1", "3", 1)),
		"a timer's as an attempt's": a.valid("wf", "r1", "t3", 1, tok),
	} {
		if ok {
			t.Errorf("%s: token accepted", name)
		}
	}
}
