package converter

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The encryption envelope, version 1. An encrypted payload is this JSON
// object, keys in this order:
//
//	{"cairn-enc":1,"alg":"AES-256-GCM","kid":"<key id>","nonce":"<base64 12 bytes>","data":"<base64 ciphertext||tag>"}
//
// "data" is the AES-256-GCM sealing of the clear JSON payload with the
// 96-bit "nonce" and the additional authenticated data
// "cairn-enc/1 AES-256-GCM <key id>", so an envelope whose kid, alg or
// version is changed no longer authenticates. Base64 is standard with
// padding. docs/security.md documents the format for other languages.
const (
	// EnvelopeVersion is the version this package writes and reads.
	EnvelopeVersion = 1
	// AlgAES256GCM is the only algorithm of version 1.
	AlgAES256GCM = "AES-256-GCM"
	// envelopeMarker is the member whose presence makes a payload an
	// envelope. A clear payload must not be an object with this member.
	envelopeMarker = "cairn-enc"
)

type envelope struct {
	Version int    `json:"cairn-enc"`
	Alg     string `json:"alg"`
	KeyID   string `json:"kid"`
	Nonce   []byte `json:"nonce"`
	Data    []byte `json:"data"`
}

// rawEnvelope tells an envelope from any other JSON object in one parse:
// only the marker is required for a payload to count as encrypted, and no
// member can fail to parse, so a damaged envelope is reported as such
// instead of being passed on as clear data.
type rawEnvelope struct {
	Version json.RawMessage `json:"cairn-enc"`
	Alg     json.RawMessage `json:"alg"`
	KeyID   json.RawMessage `json:"kid"`
	Nonce   json.RawMessage `json:"nonce"`
	Data    json.RawMessage `json:"data"`
}

// kid is the envelope's key id, as far as it can be read.
func (r *rawEnvelope) kid() string {
	var s string
	_ = json.Unmarshal(r.KeyID, &s)
	return s
}

// open decodes the members, reporting the first one that is malformed.
func (r *rawEnvelope) open() (*envelope, error) {
	var e envelope
	for _, m := range []struct {
		name string
		raw  json.RawMessage
		ptr  any
	}{{"cairn-enc", r.Version, &e.Version}, {"alg", r.Alg, &e.Alg}, {"kid", r.KeyID, &e.KeyID},
		{"nonce", r.Nonce, &e.Nonce}, {"data", r.Data, &e.Data}} {
		if m.raw == nil {
			return nil, fmt.Errorf("%w: no %q", ErrMalformedEnvelope, m.name)
		}
		if err := json.Unmarshal(m.raw, m.ptr); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrMalformedEnvelope, m.name, err)
		}
	}
	return &e, nil
}

// aad is the additional authenticated data of an envelope.
func aad(e *envelope) []byte {
	return []byte("cairn-enc/1 " + e.Alg + " " + e.KeyID)
}

// EnvelopeKeyID reports whether payload is an encryption envelope and, if
// so, the key id it names. Tools that show payloads (the CLI) use it to
// mark encrypted payloads they cannot decrypt.
func EnvelopeKeyID(payload []byte) (kid string, ok bool) {
	p, ok := probeEnvelope(payload)
	if !ok {
		return "", false
	}
	return p.kid(), true
}

func probeEnvelope(payload []byte) (*rawEnvelope, bool) {
	t := bytes.TrimSpace(payload)
	// Cheap rejection first: only objects mentioning the marker can be
	// envelopes, so clear payloads of any size cost one scan, not a parse.
	if len(t) == 0 || t[0] != '{' || !bytes.Contains(t, []byte(`"`+envelopeMarker+`"`)) {
		return nil, false
	}
	var r rawEnvelope
	if json.Unmarshal(t, &r) != nil || r.Version == nil {
		return nil, false
	}
	return &r, true
}

// isNull reports an absent value: empty data or JSON null. The engine
// writes "null" itself (an activity without a result, a signal without a
// payload), and it carries nothing to protect.
func isNull(payload []byte) bool {
	t := bytes.TrimSpace(payload)
	return len(t) == 0 || string(t) == "null"
}
