package converter

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// Keys is an immutable set of AES-256 keys, each named by a key id, one of
// which is the primary: new payloads are encrypted with the primary, and a
// payload is decrypted with whichever key its envelope names. Rotating a
// key is adding a new one and making it the primary; old payloads keep
// decrypting as long as their key stays in the set.
type Keys struct {
	primary string
	ids     []string
	aeads   map[string]cipher.AEAD
	macs    map[string][]byte // digest keys (digest.go)
}

// NewKeys returns a key set holding keys (key id to 32-byte key) with
// primary as the encryption key. Key ids are 1 to 64 characters of
// [A-Za-z0-9._-]; they are stored in clear in every envelope, so they must
// not carry secrets.
func NewKeys(primary string, keys map[string][]byte) (*Keys, error) {
	if _, ok := keys[primary]; !ok {
		return nil, fmt.Errorf("%w: primary key id %q is not in the set", ErrInvalidKeyFile, primary)
	}
	k := &Keys{primary: primary, aeads: make(map[string]cipher.AEAD, len(keys)), macs: make(map[string][]byte, len(keys))}
	k.ids = append(k.ids, primary)
	for _, id := range slices.Sorted(maps.Keys(keys)) {
		if id != primary {
			k.ids = append(k.ids, id)
		}
	}
	for _, id := range k.ids {
		if err := k.add(id, keys[id]); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (k *Keys) add(id string, key []byte) error {
	if !validKeyID(id) {
		return fmt.Errorf("%w: key id %q: want 1 to 64 characters of [A-Za-z0-9._-]", ErrInvalidKeyFile, id)
	}
	if len(key) != KeySize {
		return fmt.Errorf("%w: key %q is %d bytes, AES-256 needs %d", ErrInvalidKeyFile, id, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("%w: key %q: %w", ErrInvalidKeyFile, id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("%w: key %q: %w", ErrInvalidKeyFile, id, err)
	}
	k.aeads[id] = aead
	k.macs[id] = macKey(key)
	return nil
}

// Primary returns the id of the key new payloads are encrypted with.
func (k *Keys) Primary() string { return k.primary }

// IDs returns the key ids, the primary first, then the others in key file
// order (NewKeys: sorted).
func (k *Keys) IDs() []string { return append([]string(nil), k.ids...) }

// LoadKeyFile reads a key file (see ParseKeys for the format). Errors name
// the file and line, never key material.
func LoadKeyFile(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeyFile, err)
	}
	k, err := ParseKeys(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParseKeys reads a key set in the key file format: one key per line,
//
//	<key id> <base64 of 32 random bytes>
//
// with blank lines and lines starting with # ignored. The first key is the
// primary, so a rotation is one edit: add the new key as the first line
// and keep the old ones below it. Generate a key with
// `openssl rand -base64 32`. Duplicate ids are refused.
func ParseKeys(r io.Reader) (*Keys, error) {
	k := &Keys{aeads: map[string]cipher.AEAD{}, macs: map[string][]byte{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: line %d: want \"<key id> <base64 key>\"", ErrInvalidKeyFile, n)
		}
		id := f[0]
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("%w: line %d: key id %q appears twice", ErrInvalidKeyFile, n, id)
		}
		key, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: key %q is not standard base64", ErrInvalidKeyFile, n, id)
		}
		if err := k.add(id, key); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		k.ids = append(k.ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeyFile, err)
	}
	if len(k.ids) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeyFile)
	}
	k.primary = k.ids[0]
	return k, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
