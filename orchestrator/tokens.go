package orchestrator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
)

// attemptTokens signs the activity attempts the engine dispatches, as Step
// Functions task tokens do: every task carries its attempt's token, and a
// result or an attempt timeout counts only with the token of the attempt it
// names. The token is an HMAC of the attempt's identity under the
// namespace's secret (streams.AttemptTokenKey), so it costs no state:
// every engine process of the namespace derives and checks the same tokens,
// and re-emitting a task after a crash gives it the same token again. A
// process that can publish to an instance's inbox but has not been handed
// the attempt's task cannot make up its outcome.
type attemptTokens struct {
	ns  string
	key []byte
}

// token is the token of one attempt; empty without a key (tests that
// derive commands alone).
func (a attemptTokens) token(workflowID, run, activityID string, attempt int) string {
	if len(a.key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, a.key)
	// Each field is length-prefixed, so no two attempts sign the same bytes.
	var n [4]byte
	for _, f := range []string{a.ns, workflowID, run, activityID, strconv.Itoa(attempt)} {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid reports whether tok is the token of the attempt, in constant time.
// Without a key nothing is valid.
func (a attemptTokens) valid(workflowID, run, activityID string, attempt int, tok string) bool {
	want := a.token(workflowID, run, activityID, attempt)
	return want != "" && hmac.Equal([]byte(tok), []byte(want))
}
