package converter

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
)

// AESGCMCodec is a PayloadCodec that encrypts payloads with AES-256-GCM
// into a JSON envelope naming the key (see EnvelopeVersion for the
// format). Encode uses the key set's primary key and a fresh random 96-bit
// nonce per payload; Decode uses the key the envelope names. It is safe for
// concurrent use.
//
// By default Decode refuses a clear payload other than null with
// ErrNotEncrypted: with encryption on, a clear payload means a client,
// trigger or tool ran without the key and wrote data to history in clear,
// and failing the first task that meets it makes that visible at once
// instead of months later. AllowClearPayloads accepts them, for the time
// it takes to turn encryption on for workflows already running.
type AESGCMCodec struct {
	keys       *Keys
	allowClear bool
}

// CodecOption configures an AESGCMCodec.
type CodecOption func(*AESGCMCodec)

// AllowClearPayloads makes Decode pass clear (non-envelope) payloads
// through unchanged instead of refusing them. Use it while migrating
// histories written before encryption was turned on.
func AllowClearPayloads() CodecOption { return func(c *AESGCMCodec) { c.allowClear = true } }

// NewAESGCMCodec returns a codec over keys, which must not be nil.
func NewAESGCMCodec(keys *Keys, opts ...CodecOption) (*AESGCMCodec, error) {
	if keys == nil || len(keys.aeads) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeyFile)
	}
	c := &AESGCMCodec{keys: keys}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// NewEncryptingDataConverter is the common case: JSON encoding, then
// AES-256-GCM with keys.
func NewEncryptingDataConverter(keys *Keys, opts ...CodecOption) (DataConverter, error) {
	c, err := NewAESGCMCodec(keys, opts...)
	if err != nil {
		return nil, err
	}
	return NewCodecDataConverter(JSON(), c), nil
}

// Encode seals payload with the primary key. Every payload is sealed, null
// included, so a reader of history cannot tell an absent value from a
// present one except by its size.
func (c *AESGCMCodec) Encode(payload []byte) ([]byte, error) {
	kid := c.keys.primary
	aead := c.keys.aeads[kid]
	e := envelope{Version: EnvelopeVersion, Alg: AlgAES256GCM, KeyID: kid, Nonce: make([]byte, aead.NonceSize())}
	// A random 96-bit nonce is safe for about 2^32 payloads per key
	// (NIST SP 800-38D); rotate the primary key well before that.
	if _, err := rand.Read(e.Nonce); err != nil {
		return nil, fmt.Errorf("converter: nonce: %w", err)
	}
	e.Data = aead.Seal(nil, e.Nonce, payload, aad(&e))
	b, err := json.Marshal(&e)
	if err != nil {
		return nil, fmt.Errorf("converter: envelope: %w", err)
	}
	return b, nil
}

// Decode opens an envelope. A clear payload is returned unchanged if it is
// empty or null, or if AllowClearPayloads was given, and refused with
// ErrNotEncrypted otherwise. Errors about the envelope's key are a
// *KeyError wrapping ErrUnknownKey, ErrDecrypt or ErrMalformedEnvelope.
func (c *AESGCMCodec) Decode(payload []byte) ([]byte, error) {
	p, ok := probeEnvelope(payload)
	if !ok {
		if c.allowClear || isNull(payload) {
			return payload, nil
		}
		return nil, ErrNotEncrypted
	}
	e, err := p.open()
	if err != nil {
		return nil, &KeyError{KeyID: p.kid(), Err: err}
	}
	if e.Version != EnvelopeVersion || e.Alg != AlgAES256GCM {
		return nil, &KeyError{KeyID: e.KeyID, Err: fmt.Errorf("%w: version %d, alg %q", ErrMalformedEnvelope, e.Version, e.Alg)}
	}
	aead, ok := c.keys.aeads[e.KeyID]
	if !ok {
		return nil, &KeyError{KeyID: e.KeyID, Err: ErrUnknownKey}
	}
	if len(e.Nonce) != aead.NonceSize() {
		return nil, &KeyError{KeyID: e.KeyID, Err: fmt.Errorf("%w: nonce is %d bytes", ErrMalformedEnvelope, len(e.Nonce))}
	}
	plain, err := aead.Open(nil, e.Nonce, e.Data, aad(e))
	if err != nil {
		return nil, &KeyError{KeyID: e.KeyID, Err: ErrDecrypt}
	}
	return plain, nil
}
