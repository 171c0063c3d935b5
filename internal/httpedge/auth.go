package httpedge

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// EnvTokens is the environment variable that holds bearer tokens,
// separated by commas or newlines.
const EnvTokens = "CAIRN_HTTP_TOKENS"

// ErrNoTokens is returned by LoadTokens when a token file was named but
// holds no token: an operator who meant to protect an endpoint must not
// get an open one by accident.
var ErrNoTokens = errors.New("httpedge: the token file holds no token")

// Tokens is a set of accepted bearer tokens. The zero value accepts none
// and Empty reports true: callers decide whether that means "open".
type Tokens struct {
	// sums are SHA-256 digests, so comparisons take the same time
	// whatever the tokens' lengths.
	sums [][sha256.Size]byte
}

// NewTokens returns the set of the given tokens; blank ones are ignored.
func NewTokens(tokens ...string) Tokens {
	var t Tokens
	for _, s := range tokens {
		if s = strings.TrimSpace(s); s != "" {
			t.sums = append(t.sums, sha256.Sum256([]byte(s)))
		}
	}
	return t
}

// LoadTokens reads tokens from file (one per line; blank lines and lines
// starting with # are ignored, so a key is rotated by adding the new one,
// moving clients, then removing the old one) and from env, the value of
// EnvTokens (comma or newline separated). Either may be empty.
func LoadTokens(file, env string) (Tokens, error) {
	var all []string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return Tokens{}, fmt.Errorf("httpedge: token file: %w", err)
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			all = append(all, line)
			n++
		}
		if err := sc.Err(); err != nil {
			return Tokens{}, fmt.Errorf("httpedge: token file %s: %w", file, err)
		}
		if n == 0 {
			return Tokens{}, fmt.Errorf("%w: %s", ErrNoTokens, file)
		}
	}
	all = append(all, strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == '\n' })...)
	return NewTokens(all...), nil
}

// Empty reports whether no token is configured.
func (t Tokens) Empty() bool { return len(t.sums) == 0 }

// Len is the number of tokens.
func (t Tokens) Len() int { return len(t.sums) }

// Valid reports whether token is one of the set. It compares against
// every token, without stopping at a match, in constant time per token: the
// time taken tells nothing about which token or how much of it matched.
func (t Tokens) Valid(token string) bool {
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range t.sums {
		match |= subtle.ConstantTimeCompare(sum[:], t.sums[i][:])
	}
	return match == 1 && token != ""
}

// RequireBearer wraps next so that only requests with an
// "Authorization: Bearer <token>" header carrying one of tokens reach it;
// others are answered 401 with WWW-Authenticate: Bearer and a problem+json
// body. With no tokens, next is returned unchanged (an open endpoint, for
// development).
func RequireBearer(tokens Tokens, next http.Handler) http.Handler {
	if tokens.Empty() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok || !tokens.Valid(token) {
			detail := "send a token in an Authorization: Bearer header"
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
			if ok {
				detail = "the bearer token is not valid"
				w.Header().Set("WWW-Authenticate", `Bearer realm="cairn", error="invalid_token"`)
			}
			writeProblem(w, problem{Type: "about:blank", Title: "unauthorized", Status: http.StatusUnauthorized,
				Detail: detail, Code: "unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer extracts the token of an Authorization header; the scheme is
// case-insensitive (RFC 9110).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
