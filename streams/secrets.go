package streams

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// attemptTokenKeyName is the key, in the secrets bucket, of the secret the
// engine signs every activity attempt it dispatches with (the attempt
// token): a result or an attempt timeout counts only when it presents the
// token of an attempt the engine dispatched, so a process that can publish
// to an inbox cannot make up an activity's outcome.
const attemptTokenKeyName = "attempt-token-key"

// attemptTokenKeyBytes is the size of the secret: an HMAC-SHA256 key of
// the hash's own size.
const attemptTokenKeyBytes = 32

// ErrNoAttemptTokenKey is returned by AttemptTokenKey for a namespace
// provisioned before attempt tokens (or whose secret was deleted): provision
// it again (Ensure) to create one.
var ErrNoAttemptTokenKey = errors.New("the namespace has no attempt token key")

// ensureAttemptTokenKey creates the namespace's attempt token key unless it
// exists. Concurrent provisioners race on a create: the first one's key
// stands, and every engine process reads that one.
//
// It looks before it writes, at the bucket's subject counts rather than the
// key: every role may look (RolePermissions), only the admin role may
// write, and only the engine may read the key. So provisioning a namespace
// that has its key is read-only, and any role can check a provisioned
// namespace that way.
func ensureAttemptTokenKey(ctx context.Context, js jetstream.JetStream, names Names) error {
	kv, err := js.KeyValue(ctx, names.SecretsBucket())
	if err != nil {
		return fmt.Errorf("streams: secrets bucket: %w", err)
	}
	subject := "$KV." + names.SecretsBucket() + "." + attemptTokenKeyName
	if s, err := js.Stream(ctx, "KV_"+names.SecretsBucket()); err == nil {
		if info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject)); err == nil && info.State.Subjects[subject] > 0 {
			return nil
		}
	}
	key := make([]byte, attemptTokenKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	if _, err := kv.Create(ctx, attemptTokenKeyName, key); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("streams: create the attempt token key: %w", err)
	}
	return nil
}

// AttemptTokenKey returns the secret with which the engine of a namespace
// signs activity attempts.
func AttemptTokenKey(ctx context.Context, js jetstream.JetStream, names Names) ([]byte, error) {
	kv, err := js.KeyValue(ctx, names.SecretsBucket())
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("streams: %w (no bucket %s)", ErrNoAttemptTokenKey, names.SecretsBucket())
	}
	if err != nil {
		return nil, fmt.Errorf("streams: secrets bucket: %w", err)
	}
	e, err := kv.Get(ctx, attemptTokenKeyName)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("streams: %w", ErrNoAttemptTokenKey)
	}
	if err != nil {
		return nil, fmt.Errorf("streams: read the attempt token key: %w", err)
	}
	if len(e.Value()) != attemptTokenKeyBytes {
		return nil, fmt.Errorf("streams: the attempt token key is %d bytes, want %d", len(e.Value()), attemptTokenKeyBytes)
	}
	return e.Value(), nil
}
