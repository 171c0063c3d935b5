package converter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// PayloadDigester is implemented by DataConverters and PayloadCodecs whose
// encoding is randomized, as encryption is: the same value encodes to a
// different payload each time. cairn calls it where it must recognise a
// repeated value, such as a retried callback completion.
//
// Digest returns equal digests for payloads that hold the same encoded
// value under the same scope, different digests for different values or
// scopes, and nothing that tells the value to whoever lacks the key. A nil
// digest with a nil error means the encoding is deterministic: compare the
// payloads themselves.
type PayloadDigester interface {
	Digest(payload, scope []byte) ([]byte, error)
}

// Digest makes the converter a PayloadDigester: the first codec (from the
// outermost) that is one digests the payload as it stands at that layer.
func (c *codecConverter) Digest(payload, scope []byte) ([]byte, error) {
	for _, codec := range c.codecs {
		if d, ok := codec.(PayloadDigester); ok {
			return d.Digest(payload, scope)
		}
		var err error
		if payload, err = codec.Decode(payload); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Digest is an HMAC-SHA256 of scope and the decrypted value, under a key
// derived from the key that sealed the payload (a clear payload accepted by
// AllowClearPayloads: the primary). Scoping keeps two callbacks decided
// with the same value from having the same digest. A payload repeated after
// the primary key changed is sealed under another key, so its digest
// differs.
func (c *AESGCMCodec) Digest(payload, scope []byte) ([]byte, error) {
	kid := c.keys.primary
	if k, sealed := EnvelopeKeyID(payload); sealed {
		kid = k
	}
	plain, err := c.Decode(payload)
	if err != nil {
		return nil, err
	}
	key, ok := c.keys.macs[kid]
	if !ok {
		return nil, &KeyError{KeyID: kid, Err: ErrUnknownKey}
	}
	m := hmac.New(sha256.New, key)
	// Length-prefixed, so scope and value cannot trade bytes.
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(scope)))
	m.Write(n[:])
	m.Write(scope)
	m.Write(plain)
	return m.Sum(nil), nil
}

// macKey derives the digest key of an encryption key, so that the AES key
// itself is never used for anything but AES-GCM.
func macKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cairn-enc/1 digest"))
	return m.Sum(nil)
}
