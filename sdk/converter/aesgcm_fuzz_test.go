package converter_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cairnhq/cairn/sdk/converter"
)

// FuzzAESGCMDecode: whatever a history holds, Decode returns the value or
// an error, never panics, and never passes off a non-null clear payload or
// a damaged envelope as decrypted data.
func FuzzAESGCMDecode(f *testing.F) {
	keys, err := converter.NewKeys("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, converter.KeySize)})
	if err != nil {
		f.Fatal(err)
	}
	codec, err := converter.NewAESGCMCodec(keys)
	if err != nil {
		f.Fatal(err)
	}
	good, err := codec.Encode([]byte(`{"id":"x"}`))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(good), `null`, ``, `{"a":1}`, `{"cairn-enc":1}`, `{"cairn-enc":"1","kid":7}`,
		`{"cairn-enc":1,"alg":"AES-256-GCM","kid":"k1","nonce":"AAAAAAAAAAAAAAAA","data":"AAAA"}`, `[{"cairn-enc":1}]`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		plain, err := codec.Decode(payload)
		if err != nil {
			var ke *converter.KeyError
			if !errors.Is(err, converter.ErrNotEncrypted) && !errors.As(err, &ke) {
				t.Fatalf("Decode(%q): untyped error %v", payload, err)
			}
			return
		}
		if _, sealed := converter.EnvelopeKeyID(payload); !sealed {
			if trimmed := bytes.TrimSpace(payload); len(trimmed) != 0 && string(trimmed) != "null" {
				t.Fatalf("a clear payload was accepted: %q", payload)
			}
			return
		}
		// Only an authentic envelope opens, and the fuzzer cannot forge
		// one: what opens is the seed's value.
		if !bytes.Equal(plain, []byte(`{"id":"x"}`)) {
			t.Fatalf("Decode(%q) opened to %q", payload, plain)
		}
	})
}
