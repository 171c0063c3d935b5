package history

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestCallbackTokenRoundTrip(t *testing.T) {
	want := CallbackToken{WorkflowID: "wf/with spaces+ünïcode", Run: "r1", ID: 1 << 40, Nonce: strings.Repeat("ab", 16)}
	s := want.Encode()
	if strings.ContainsAny(s, "+/=") {
		t.Fatalf("token %q is not URL-safe", s)
	}
	got, err := ParseCallbackToken(s)
	if err != nil {
		t.Fatal(err)
	}
	if *got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestParseCallbackTokenRejects(t *testing.T) {
	nonce := strings.Repeat("n", 32)
	enc := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"not base64", "!!!"},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte(`{"w":"w","r":"r","c":1,"n":"` + nonce + `"}`))},
		{"not JSON", enc("hello")},
		{"no workflow", enc(`{"r":"r","c":1,"n":"` + nonce + `"}`)},
		{"no run", enc(`{"w":"w","c":1,"n":"` + nonce + `"}`)},
		{"zero id", enc(`{"w":"w","r":"r","c":0,"n":"` + nonce + `"}`)},
		{"negative id", enc(`{"w":"w","r":"r","c":-1,"n":"` + nonce + `"}`)},
		{"short nonce", enc(`{"w":"w","r":"r","c":1,"n":"abc"}`)},
		{"long nonce", enc(`{"w":"w","r":"r","c":1,"n":"` + nonce + `x"}`)},
		{"truncated", CallbackToken{WorkflowID: "w", Run: "r", ID: 1, Nonce: nonce}.Encode()[:20]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCallbackToken(tt.token)
			if err == nil {
				t.Fatalf("accepted as %+v", got)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
		})
	}
}
