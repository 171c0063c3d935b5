package streams

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// kvKeyRe is nats.go's rule for KV keys.
var kvKeyRe = regexp.MustCompile(`\A[-/_=\.a-zA-Z0-9]+\z`)

// checkToken asserts that tok is usable wherever cairn puts escaped strings.
func checkToken(t *testing.T, in, tok string) {
	t.Helper()
	if tok == "" {
		t.Fatalf("EscapeToken(%q) is empty", in)
	}
	// One subject token: no separators, wildcards or whitespace.
	if strings.ContainsAny(tok, ".*> \t\r\n\f") {
		t.Fatalf("EscapeToken(%q) = %q is not a single subject token", in, tok)
	}
	if !kvKeyRe.MatchString(tok) {
		t.Fatalf("EscapeToken(%q) = %q is not a valid KV key", in, tok)
	}
	// Consumer and stream names additionally forbid path separators.
	if strings.ContainsAny(tok, `/\`) {
		t.Fatalf("EscapeToken(%q) = %q is not a valid consumer name part", in, tok)
	}
	if !utf8.ValidString(tok) {
		t.Fatalf("EscapeToken(%q) = %q is not valid UTF-8", in, tok)
	}
}

func TestEscapeTokenTable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "="},
		{"order-42_A", "order-42_A"},
		{"=", "=3D"},
		{"a.b", "a=2Eb"},
		{"*", "=2A"},
		{">", "=3E"},
		{"a b", "a=20b"},
		{"é", "=C3=A9"},
		{"=3D", "=3D3D"},
		{"\x00\xff", "=00=FF"},
		{"a/b\\c", "a=2Fb=5Cc"},
	}
	for _, tt := range tests {
		got := EscapeToken(tt.in)
		if got != tt.want {
			t.Errorf("EscapeToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
		checkToken(t, tt.in, got)
		back, err := UnescapeToken(got)
		if err != nil || back != tt.in {
			t.Errorf("UnescapeToken(%q) = %q, %v; want %q", got, back, err, tt.in)
		}
	}
}

func TestEscapeTokenPlainDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = EscapeToken("order-12345") })
	if allocs != 0 {
		t.Fatalf("EscapeToken of a plain id allocates %v times", allocs)
	}
}

func TestEscapeTokenRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := make(map[string]string)
	// Bias the alphabet towards the interesting bytes so that collisions
	// between escapes and literals would show up.
	alphabet := []byte("aZ09_-=.*> 3DEF\x00\xc3\xa9")
	for range 20000 {
		n := r.IntN(8)
		b := make([]byte, n)
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		in := string(b)
		tok := EscapeToken(in)
		checkToken(t, in, tok)
		back, err := UnescapeToken(tok)
		if err != nil || back != in {
			t.Fatalf("round trip %q -> %q -> %q, %v", in, tok, back, err)
		}
		if prev, ok := seen[tok]; ok && prev != in {
			t.Fatalf("not injective: %q and %q both escape to %q", prev, in, tok)
		}
		seen[tok] = in
	}
}

func TestUnescapeTokenRejectsNonCanonical(t *testing.T) {
	for _, tok := range []string{
		"",       // empty is not a token
		"==",     // '=' must start a full escape
		"=3",     // truncated
		"a=",     // truncated
		"=3d",    // lower-case hex
		"=41",    // escapes a byte that is never escaped ("A")
		"=5F",    // "_"
		"=2D",    // "-"
		"=G0",    // not hex
		"a.b",    // separator
		"a b",    // space
		"a*",     // wildcard
		"é",      // raw UTF-8
		"a=2",    // truncated at end
		"=3D=",   // trailing lone mark
		"x=\x00", // raw byte in escape
	} {
		got, err := UnescapeToken(tok)
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("UnescapeToken(%q) = %q, %v; want ErrInvalidToken", tok, got, err)
		}
	}
}
