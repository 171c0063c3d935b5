package converter

import (
	"errors"
	"fmt"
)

// Errors of the encryption codec and its key files. Check them with
// errors.Is; errors about one key are also a *KeyError naming it.
var (
	// ErrUnknownKey: a payload names a key id the key set does not hold
	// (a key removed too early, or a worker given an old key file).
	ErrUnknownKey = errors.New("converter: unknown encryption key id")
	// ErrDecrypt: the ciphertext does not authenticate under the named key:
	// the payload was altered, relabelled with another key id, or the key
	// file holds a different key under that id.
	ErrDecrypt = errors.New("converter: payload failed authentication")
	// ErrMalformedEnvelope: a payload marked as encrypted is not a valid
	// envelope (bad base64, unknown version or algorithm, wrong nonce size).
	ErrMalformedEnvelope = errors.New("converter: malformed encryption envelope")
	// ErrNotEncrypted: a clear payload reached a codec that refuses them
	// (the default; see AllowClearPayloads).
	ErrNotEncrypted = errors.New("converter: payload is not encrypted")
	// ErrInvalidKeyFile: a key file or key set is unusable.
	ErrInvalidKeyFile = errors.New("converter: invalid key file")
)

// KeyError is an error about the key a payload names. It never carries key
// material, so it is safe to log.
type KeyError struct {
	// KeyID is the key id the payload's envelope names.
	KeyID string
	// Err is ErrUnknownKey, ErrDecrypt or ErrMalformedEnvelope.
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("%v (key id %q)", e.Err, e.KeyID) }

// Unwrap lets errors.Is match the sentinel.
func (e *KeyError) Unwrap() error { return e.Err }
