package history

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalidToken: the string is not a callback token.
var ErrInvalidToken = errors.New("invalid callback token")

// CallbackToken identifies one callback wait of one run. Its nonce comes
// from crypto/rand and is recorded in history, so a token cannot be
// guessed from the workflow id and run.
type CallbackToken struct {
	WorkflowID string `json:"w"`
	Run        string `json:"r"`
	ID         int64  `json:"c"`
	Nonce      string `json:"n"`
}

// Encode returns the opaque string handed to the external party.
func (t CallbackToken) Encode() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCallbackToken decodes a token.
func ParseCallbackToken(s string) (*CallbackToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var t CallbackToken
	if err := json.Unmarshal(b, &t); err != nil || t.WorkflowID == "" || t.Run == "" || t.ID <= 0 || len(t.Nonce) != 32 {
		return nil, fmt.Errorf("%w: not a cairn callback token", ErrInvalidToken)
	}
	return &t, nil
}
