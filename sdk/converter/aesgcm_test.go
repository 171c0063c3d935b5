package converter_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/sdk/converter"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, converter.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// keyFile writes a key file with the given (id, key) lines, first primary.
func keyFile(t testing.TB, lines ...any) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# test keys\n\n")
	for i := 0; i < len(lines); i += 2 {
		fmt.Fprintf(&b, "%s %s\n", lines[i], base64.StdEncoding.EncodeToString(lines[i+1].([]byte)))
	}
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func encrypting(t testing.TB, path string, opts ...converter.CodecOption) converter.DataConverter {
	t.Helper()
	keys, err := converter.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := converter.NewEncryptingDataConverter(keys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

func TestEncryptionRoundTrip(t *testing.T) {
	dc := encrypting(t, keyFile(t, "k1", newKey(t)))
	in := order{ID: "secret-order", Cents: 4242}
	b, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("envelope %q is not JSON", b)
	}
	if bytes.Contains(b, []byte("secret-order")) {
		t.Fatalf("clear text in envelope %s", b)
	}
	if kid, ok := converter.EnvelopeKeyID(b); !ok || kid != "k1" {
		t.Fatalf("EnvelopeKeyID = %q, %v; want k1, true", kid, ok)
	}
	var out order
	if err := dc.FromPayload(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	// A fresh nonce per payload: the same value never encrypts the same.
	b2, _ := dc.ToPayload(in)
	if bytes.Equal(b, b2) {
		t.Fatal("two encodings of one value are identical: nonce reused")
	}
}

func TestEncryptionRawMessageAndNull(t *testing.T) {
	dc := encrypting(t, keyFile(t, "k1", newKey(t)))
	b, err := dc.ToPayload(json.RawMessage(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var raw json.RawMessage
	if err := dc.FromPayload(b, &raw); err != nil || string(raw) != `{"a":1}` {
		t.Fatalf("got %s, %v", raw, err)
	}
	// Absent values written by the engine itself decode as no value.
	for _, p := range []string{"", "null", " null\n"} {
		out := order{ID: "keep"}
		if err := dc.FromPayload([]byte(p), &out); err != nil || out.ID != "keep" {
			t.Fatalf("FromPayload(%q) = %+v, %v", p, out, err)
		}
	}
}

func TestEncryptionRotation(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	old := encrypting(t, keyFile(t, "k1", k1))
	oldPayload, err := old.ToPayload(order{ID: "before"})
	if err != nil {
		t.Fatal(err)
	}
	rotated := encrypting(t, keyFile(t, "k2", k2, "k1", k1))
	newPayload, err := rotated.ToPayload(order{ID: "after"})
	if err != nil {
		t.Fatal(err)
	}
	if kid, _ := converter.EnvelopeKeyID(newPayload); kid != "k2" {
		t.Fatalf("new payload encrypted with %q, want the new primary k2", kid)
	}
	var out order
	if err := rotated.FromPayload(oldPayload, &out); err != nil || out.ID != "before" {
		t.Fatalf("old payload after rotation: %+v, %v", out, err)
	}
	// A process still on the old key file cannot read the new payloads,
	// and says which key it lacks.
	err = old.FromPayload(newPayload, &out)
	var ke *converter.KeyError
	if !errors.Is(err, converter.ErrUnknownKey) || !errors.As(err, &ke) || ke.KeyID != "k2" {
		t.Fatalf("old key set on a new payload: %v; want ErrUnknownKey naming k2", err)
	}
}

func TestEncryptionRefusals(t *testing.T) {
	k1 := newKey(t)
	dc := encrypting(t, keyFile(t, "k1", k1))
	good, err := dc.ToPayload(order{ID: "x", Cents: 1})
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(good, &e); err != nil {
		t.Fatal(err)
	}
	with := func(field string, v any) []byte {
		m := map[string]any{}
		for k, x := range e {
			m[k] = x
		}
		m[field] = v
		b, _ := json.Marshal(m)
		return b
	}
	data, _ := base64.StdEncoding.DecodeString(e["data"].(string))
	flipped := append([]byte(nil), data...)
	flipped[0] ^= 1

	// The same key under another id: relabelling must fail authentication
	// even though the key would open the ciphertext.
	relabel := encrypting(t, keyFile(t, "k1", k1, "k9", k1))

	cases := []struct {
		name    string
		dc      converter.DataConverter
		payload []byte
		want    error
		kid     string
	}{
		{"tampered ciphertext", dc, with("data", base64.StdEncoding.EncodeToString(flipped)), converter.ErrDecrypt, "k1"},
		{"tampered nonce", dc, with("nonce", base64.StdEncoding.EncodeToString(make([]byte, 12))), converter.ErrDecrypt, "k1"},
		{"truncated ciphertext", dc, with("data", base64.StdEncoding.EncodeToString(data[:4])), converter.ErrDecrypt, "k1"},
		{"relabelled key id", relabel, with("kid", "k9"), converter.ErrDecrypt, "k9"},
		{"wrong key, same id", encrypting(t, keyFile(t, "k1", newKey(t))), good, converter.ErrDecrypt, "k1"},
		{"unknown key id", dc, with("kid", "k7"), converter.ErrUnknownKey, "k7"},
		{"unknown version", dc, with("cairn-enc", 2), converter.ErrMalformedEnvelope, "k1"},
		{"unknown algorithm", dc, with("alg", "AES-128-GCM"), converter.ErrMalformedEnvelope, "k1"},
		{"short nonce", dc, with("nonce", "AAAA"), converter.ErrMalformedEnvelope, "k1"},
		{"bad base64", dc, with("data", "%%%"), converter.ErrMalformedEnvelope, "k1"},
		{"clear payload", dc, []byte(`{"id":"x","cents":1}`), converter.ErrNotEncrypted, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := order{ID: "untouched"}
			err := c.dc.FromPayload(c.payload, &out)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if out.ID != "untouched" {
				t.Fatalf("target written on error: %+v", out)
			}
			if c.kid == "" {
				return
			}
			var ke *converter.KeyError
			if !errors.As(err, &ke) || ke.KeyID != c.kid {
				t.Fatalf("err = %v, want a *KeyError naming %q", err, c.kid)
			}
			if !strings.Contains(err.Error(), c.kid) {
				t.Fatalf("message %q does not name key %q", err, c.kid)
			}
		})
	}
}

func TestEncryptionAllowClearPayloads(t *testing.T) {
	dc := encrypting(t, keyFile(t, "k1", newKey(t)), converter.AllowClearPayloads())
	var out order
	if err := dc.FromPayload([]byte(`{"id":"legacy","cents":7}`), &out); err != nil || out.ID != "legacy" {
		t.Fatalf("clear payload with AllowClearPayloads: %+v, %v", out, err)
	}
	// Accepting clear payloads never means accepting broken envelopes.
	err := dc.FromPayload([]byte(`{"cairn-enc":1,"alg":"AES-256-GCM","kid":"k1","nonce":"AAAA","data":""}`), &out)
	if !errors.Is(err, converter.ErrMalformedEnvelope) {
		t.Fatalf("broken envelope with AllowClearPayloads: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	good := "# rotated 2026-12\nk2 " + key + "\n\n  k1   " + key + "  \n"
	keys, err := converter.ParseKeys(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if keys.Primary() != "k2" || fmt.Sprint(keys.IDs()) != "[k2 k1]" {
		t.Fatalf("primary %q, ids %v; want k2 first", keys.Primary(), keys.IDs())
	}
	for name, text := range map[string]string{
		"empty":        "# nothing\n",
		"one field":    "k1\n",
		"three fields": "k1 " + key + " primary\n",
		"duplicate":    "k1 " + key + "\nk1 " + key + "\n",
		"short key":    "k1 " + short + "\n",
		"not base64":   "k1 not-base64!\n",
		"bad id":       "k/1 " + key + "\n",
	} {
		_, err := converter.ParseKeys(strings.NewReader(text))
		if !errors.Is(err, converter.ErrInvalidKeyFile) {
			t.Errorf("%s: err = %v, want ErrInvalidKeyFile", name, err)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("%s: error leaks key material: %v", name, err)
		}
	}
	if _, err := converter.LoadKeyFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, converter.ErrInvalidKeyFile) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestNewKeys(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	keys, err := converter.NewKeys("k2", map[string][]byte{"k3": k1, "k1": k1, "k2": k2})
	if err != nil || keys.Primary() != "k2" || fmt.Sprint(keys.IDs()) != "[k2 k1 k3]" {
		t.Fatalf("NewKeys: %v, %v", keys, err)
	}
	if _, err := converter.NewKeys("k1", map[string][]byte{"k1": k1[:16]}); !errors.Is(err, converter.ErrInvalidKeyFile) {
		t.Fatalf("short key: %v", err)
	}
	if _, err := converter.NewKeys("k3", map[string][]byte{"k1": k1}); !errors.Is(err, converter.ErrInvalidKeyFile) {
		t.Fatalf("missing primary: %v", err)
	}
	if _, err := converter.NewAESGCMCodec(nil); !errors.Is(err, converter.ErrInvalidKeyFile) {
		t.Fatalf("nil keys: %v", err)
	}
}

func TestCodecOrder(t *testing.T) {
	// codecs[0] is the outermost layer: encode applies it last.
	var trace []string
	mk := func(name string) converter.PayloadCodec { return tagCodec{name, &trace} }
	dc := converter.NewCodecDataConverter(converter.JSON(), mk("a"), mk("b"))
	b, err := dc.ToPayload(1)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dc.FromPayload(b, &n); err != nil || n != 1 {
		t.Fatalf("got %d, %v", n, err)
	}
	if got := strings.Join(trace, ","); got != "enc b,enc a,dec a,dec b" {
		t.Fatalf("order %s", got)
	}
}

// tagCodec wraps a payload in a one-member object named after the codec.
type tagCodec struct {
	name  string
	trace *[]string
}

func (c tagCodec) Encode(p []byte) ([]byte, error) {
	*c.trace = append(*c.trace, "enc "+c.name)
	return json.Marshal(map[string]json.RawMessage{c.name: p})
}

func (c tagCodec) Decode(p []byte) ([]byte, error) {
	*c.trace = append(*c.trace, "dec "+c.name)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p, &m); err != nil {
		return nil, err
	}
	inner, ok := m[c.name]
	if !ok {
		return nil, fmt.Errorf("not wrapped by %s", c.name)
	}
	return inner, nil
}

func BenchmarkAESGCM(b *testing.B) {
	dc := encrypting(b, keyFile(b, "k1", newKey(b)))
	for _, size := range []int{1 << 10, 64 << 10} {
		in := json.RawMessage(`"` + strings.Repeat("x", size-2) + `"`)
		enc, err := dc.ToPayload(in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("encode/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := dc.ToPayload(in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("decode/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			var out json.RawMessage
			for b.Loop() {
				if err := dc.FromPayload(enc, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
