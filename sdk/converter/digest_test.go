package converter_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cairnhq/cairn/sdk/converter"
)

func TestDigest(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	dc := encrypting(t, keyFile(t, "k1", k1))
	d, ok := dc.(converter.PayloadDigester)
	if !ok {
		t.Fatal("the encrypting converter is not a PayloadDigester")
	}
	digest := func(dc converter.DataConverter, v any, scope string) []byte {
		t.Helper()
		p, err := dc.ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		out, err := dc.(converter.PayloadDigester).Digest(p, []byte(scope))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a1, a2 := digest(dc, "approved", "cb-1"), digest(dc, "approved", "cb-1")
	if len(a1) != 32 || !bytes.Equal(a1, a2) {
		t.Fatalf("two encryptions of one value: digests %x and %x, want equal", a1, a2)
	}
	for name, other := range map[string][]byte{
		"another value":            digest(dc, "rejected", "cb-1"),
		"another scope":            digest(dc, "approved", "cb-2"),
		"another key, same id":     digest(encrypting(t, keyFile(t, "k1", k2)), "approved", "cb-1"),
		"after rotation (new kid)": digest(encrypting(t, keyFile(t, "k2", k2, "k1", k1)), "approved", "cb-1"),
	} {
		if bytes.Equal(a1, other) {
			t.Errorf("%s: same digest", name)
		}
	}
	// Scope and value are framed: "cb-1"+"12" and "cb-11"+"2" differ.
	if bytes.Equal(digest(dc, 12, "cb-1"), digest(dc, 2, "cb-11")) {
		t.Error("scope and value can trade bytes")
	}
	// A payload it cannot open has no digest.
	sealed, _ := encrypting(t, keyFile(t, "k9", k2)).ToPayload("approved")
	if _, err := d.Digest(sealed, []byte("cb-1")); !errors.Is(err, converter.ErrUnknownKey) {
		t.Fatalf("digest of a payload under an unknown key: %v", err)
	}
	// Deterministic converters need none.
	if out, err := converter.NewCodecDataConverter(converter.JSON()).(converter.PayloadDigester).Digest([]byte(`1`), nil); out != nil || err != nil {
		t.Fatalf("digest without a digesting codec: %x, %v; want nil, nil", out, err)
	}
}
