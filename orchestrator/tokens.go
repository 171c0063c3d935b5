package orchestrator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
)

// attemptTokens signs what the engine hands out or schedules, so that no
// one else can make it up. Activity attempts, as Step Functions task tokens
// do: every task carries its attempt's token, and a result or an attempt
// timeout counts only with the token of the attempt it names. Timer fires
// and timeouts: the schedule the engine publishes carries its timer's
// token, which the server copies onto the message it fires, and a fire or
// timeout counts only with it. A token is an HMAC of what it names under
// the namespace's secret (streams.AttemptTokenKey), so it costs no state:
// every engine process of the namespace derives and checks the same tokens,
// and re-emitting after a crash gives the same tokens again. A process that
// can publish to an instance's inbox cannot complete an attempt it was not
// handed, nor wake a sleeping workflow before its time.
type attemptTokens struct {
	ns  string
	key []byte
}

// token is the token of one attempt; empty without a key (tests that
// derive commands alone).
func (a attemptTokens) token(workflowID, run, activityID string, attempt int) string {
	return a.sign("attempt", workflowID, run, activityID, strconv.Itoa(attempt))
}

// valid reports whether tok is the token of the attempt, in constant time.
// Without a key nothing is valid.
func (a attemptTokens) valid(workflowID, run, activityID string, attempt int, tok string) bool {
	return equal(a.token(workflowID, run, activityID, attempt), tok)
}

// timer is the token of one of a run's timers, by its name on the timer
// subject (t<id>, a<id>, w).
func (a attemptTokens) timer(workflowID, run, name string) string {
	return a.sign("timer", workflowID, run, name)
}

// validTimer reports whether tok is the token of the timer.
func (a attemptTokens) validTimer(workflowID, run, name, tok string) bool {
	return equal(a.timer(workflowID, run, name), tok)
}

// retention is the token of the schedule that purges a closed run when
// its retention ends.
func (a attemptTokens) retention(workflowID, run string) string {
	return a.sign("retention", workflowID, run)
}

// validRetention reports whether tok is the token of the run's retention
// schedule.
func (a attemptTokens) validRetention(workflowID, run, tok string) bool {
	return equal(a.retention(workflowID, run), tok)
}

// sign is the HMAC of the namespace and fields, the first of which says
// what is signed, so a token of one kind is never valid as another.
func (a attemptTokens) sign(fields ...string) string {
	if len(a.key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, a.key)
	// Each field is length-prefixed, so no two field lists sign the same
	// bytes.
	var n [4]byte
	for _, f := range append([]string{a.ns}, fields...) {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// equal compares a token with the one wanted in constant time; an empty
// wanted token (no key) matches nothing.
func equal(want, tok string) bool {
	return want != "" && hmac.Equal([]byte(tok), []byte(want))
}
