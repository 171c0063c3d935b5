package streams

import (
	"fmt"
	"strings"
)

// escapeMark introduces an escaped byte. It is outside the safe alphabet, so
// a literal '=' in the input is itself escaped ("=3D") and every '=' in an
// escaped token starts an escape sequence. That is what makes the mapping
// injective.
const escapeMark = '='

// upperHex is the digit set of escape sequences. Only upper case is produced
// and accepted, so every string has exactly one escaped form.
const upperHex = "0123456789ABCDEF"

// EscapeToken maps an arbitrary string (a workflow id, an activity type name,
// a timer name) to a single NATS subject token.
//
// Bytes in [A-Za-z0-9_-] are kept; every other byte, including '=', '.', '*',
// '>', whitespace and each byte of a multi-byte UTF-8 sequence, becomes "=XX"
// with XX the byte in upper-case hex. The empty string becomes "=", a token
// the rule above can never produce otherwise.
//
// The result is non-empty and uses only [A-Za-z0-9_=-], so it is a valid
// subject token, a valid KV key, and a valid part of a stream or consumer
// name. The mapping is injective and UnescapeToken reverses it.
//
// Strings that need no escaping are returned as is without allocating: ids
// are escaped on every message, and most ids are plain.
func EscapeToken(s string) string {
	if s == "" {
		return string(escapeMark)
	}
	unsafe := 0
	for i := 0; i < len(s); i++ {
		if !isTokenSafe(s[i]) {
			unsafe++
		}
	}
	if unsafe == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*unsafe)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isTokenSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(escapeMark)
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0x0F])
	}
	return b.String()
}

// UnescapeToken reverses EscapeToken.
//
// It accepts only canonical tokens, that is exactly the strings EscapeToken
// can return: lower-case hex digits, escaped safe bytes ("=41" for "A"),
// truncated sequences and bytes outside [A-Za-z0-9_=-] are rejected with
// ErrInvalidToken. Being strict keeps the mapping a bijection, so two
// different subjects never name the same instance.
func UnescapeToken(tok string) (string, error) {
	switch {
	case tok == string(escapeMark):
		return "", nil
	case tok == "":
		return "", fmt.Errorf("%w: empty token", ErrInvalidToken)
	}
	if strings.IndexByte(tok, escapeMark) < 0 {
		for i := 0; i < len(tok); i++ {
			if !isTokenSafe(tok[i]) {
				return "", fmt.Errorf("%w: %q: byte %#02x at %d is not allowed", ErrInvalidToken, tok, tok[i], i)
			}
		}
		return tok, nil
	}
	var b strings.Builder
	b.Grow(len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if isTokenSafe(c) {
			b.WriteByte(c)
			continue
		}
		if c != escapeMark {
			return "", fmt.Errorf("%w: %q: byte %#02x at %d is not allowed", ErrInvalidToken, tok, c, i)
		}
		if i+2 >= len(tok) {
			return "", fmt.Errorf("%w: %q: truncated escape at %d", ErrInvalidToken, tok, i)
		}
		hi, okHi := unhexUpper(tok[i+1])
		lo, okLo := unhexUpper(tok[i+2])
		if !okHi || !okLo {
			return "", fmt.Errorf("%w: %q: bad escape %q at %d", ErrInvalidToken, tok, tok[i:i+3], i)
		}
		v := hi<<4 | lo
		if isTokenSafe(v) {
			return "", fmt.Errorf("%w: %q: escape %q at %d encodes a byte that is never escaped", ErrInvalidToken, tok, tok[i:i+3], i)
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), nil
}

// isTokenSafe reports whether c is kept verbatim by EscapeToken. The set is
// the intersection of what NATS subjects, KV keys, stream and consumer names,
// and file names (the server stores consumers in directories) all accept.
func isTokenSafe(c byte) bool {
	return 'a' <= c && c <= 'z' ||
		'A' <= c && c <= 'Z' ||
		'0' <= c && c <= '9' ||
		c == '_' || c == '-'
}

func unhexUpper(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
