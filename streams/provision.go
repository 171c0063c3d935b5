package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Provisioning defaults.
const (
	// DefaultDuplicateWindow is how long the streams remember Nats-Msg-Id
	// values; publishers retry within it without storing twice.
	DefaultDuplicateWindow = 2 * time.Minute

	// WorkersTTL is how long a worker entry lives without a heartbeat.
	WorkersTTL = 30 * time.Second

	// CallbacksMaxAge is how long the callbacks bucket remembers the
	// decision of a callback. Within it, a repeat of the deciding call is
	// answered as a success and any other decision is refused even while
	// the decision is still on its way to the run. Past it, history alone
	// decides: a callback closed there refuses every call, the repeat
	// included (docs/design/engine.md, Interaction).
	CallbacksMaxAge = 30 * 24 * time.Hour
)

// A JetStream API request goes unanswered when the JetStream meta leader or
// the stream's leader changes while it is in flight (a node of a cluster
// stops, or the whole cluster has just restarted and is still electing).
// Provisioning is idempotent, so a step that timed out is tried again, each
// attempt bounded by apiTimeout, apiAttempts times at most.
const (
	apiTimeout  = 5 * time.Second
	apiAttempts = 6
)

// retryTimeouts runs step until it ends in anything but a timeout of its
// own (ctx still live), at most apiAttempts times. A request the server
// refused for lack of permission goes unanswered too: the server reports
// it to the connection instead, so a timeout after such a report is
// ErrNotPermitted, not tried again.
func retryTimeouts(ctx context.Context, js jetstream.JetStream, step func(context.Context) error) error {
	var err error
	for range apiAttempts {
		actx, cancel := context.WithTimeout(ctx, apiTimeout)
		err = step(actx)
		cancel()
		if err == nil || ctx.Err() != nil ||
			!(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)) {
			return err
		}
		if js == nil {
			continue
		}
		if last := js.Conn().LastError(); errors.Is(last, nats.ErrPermissionViolation) {
			return fmt.Errorf("%w: %w (after: %w)", ErrNotPermitted, last, err)
		}
	}
	return err
}

// ensureAttempts bounds the read-create-update loop of one stream. Losing a
// creation race costs one extra attempt; more only happens if someone keeps
// deleting the stream while we create it.
const ensureAttempts = 5

// Option configures Ensure.
type Option func(*provisionOptions) error

type provisionOptions struct {
	// replicas is 0 unless WithReplicas was given: missing streams and
	// buckets get one replica, existing ones keep theirs.
	replicas        int
	storage         jetstream.StorageType
	maxMsgSize      int32
	historyMaxAge   time.Duration
	duplicateWindow time.Duration
}

func defaultProvisionOptions() provisionOptions {
	return provisionOptions{
		storage:         jetstream.FileStorage,
		maxMsgSize:      -1,
		duplicateWindow: DefaultDuplicateWindow,
	}
}

// WithReplicas sets the replica count of all streams and buckets (1..5),
// scaling existing ones up or down to it. More than one needs a clustered
// server with at least n nodes. Without it, Ensure creates missing streams
// and buckets with one replica and leaves the count of existing ones alone,
// so a worker starting on a namespace an operator provisioned at R3 does not
// scale it down.
func WithReplicas(n int) Option {
	return func(o *provisionOptions) error {
		if n < 1 || n > 5 {
			return fmt.Errorf("streams: replicas %d out of range 1..5", n)
		}
		o.replicas = n
		return nil
	}
}

// WithMemoryStorage keeps all streams and buckets in memory instead of on
// disk. Everything is lost when the server stops; for tests and benchmarks.
func WithMemoryStorage() Option {
	return func(o *provisionOptions) error {
		o.storage = jetstream.MemoryStorage
		return nil
	}
}

// WithMaxMsgSize caps the size of one message in the three streams. The
// default, -1, leaves the server's max_payload as the only limit.
func WithMaxMsgSize(bytes int32) Option {
	return func(o *provisionOptions) error {
		if bytes == 0 || bytes < -1 {
			return fmt.Errorf("streams: max message size %d: want -1 or a positive size", bytes)
		}
		o.maxMsgSize = bytes
		return nil
	}
}

// WithHistoryMaxAge makes the history stream forget messages older than d.
// The default, 0, keeps history forever. Expiring history also expires the
// ability to load old instances, so set it well above the longest
// workflow.
func WithHistoryMaxAge(d time.Duration) Option {
	return func(o *provisionOptions) error {
		if d < 0 {
			return fmt.Errorf("streams: negative history max age %v", d)
		}
		o.historyMaxAge = d
		return nil
	}
}

// WithDuplicateWindow sets the duplicate detection window of the streams
// (default 2 minutes). On the history stream it is capped at the history max
// age, because the server rejects a larger window.
func WithDuplicateWindow(d time.Duration) Option {
	return func(o *provisionOptions) error {
		if d <= 0 {
			return fmt.Errorf("streams: duplicate window %v must be positive", d)
		}
		o.duplicateWindow = d
		return nil
	}
}

// Ensure creates, or updates to the wanted configuration, the streams and KV
// buckets of namespace ns (see docs/design/engine.md).
//
// It is idempotent and safe to run concurrently from many processes; every
// worker and client may call it at startup. Processes passing different
// options race and the last update wins, so deployments should agree on them;
// the replica count is only changed by those passing WithReplicas.
//
// An existing stream that cannot be turned into the wanted one (another
// retention policy or storage type, a mirror) is left untouched and reported
// with an error wrapping ErrIncompatibleStream.
func Ensure(ctx context.Context, js jetstream.JetStream, ns string, opts ...Option) error {
	if err := ValidateNamespace(ns); err != nil {
		return err
	}
	o := defaultProvisionOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return err
		}
	}
	names := NewNames(ns)
	for _, cfg := range append(streamConfigs(names, o), schedulesStreamConfig(names, o)) {
		if err := retryTimeouts(ctx, js, func(ctx context.Context) error { return ensureStream(ctx, js, cfg) }); err != nil {
			return err
		}
	}
	for _, cfg := range append(bucketConfigs(names, o), schedulesBucketConfig(names, o)) {
		if err := retryTimeouts(ctx, js, func(ctx context.Context) error { return ensureBucket(ctx, js, cfg) }); err != nil {
			return err
		}
	}
	return retryTimeouts(ctx, js, func(ctx context.Context) error { return ensureAttemptTokenKey(ctx, js, names) })
}

// NamespaceReplicas returns the replica count of namespace ns, read from its
// history stream, or 0 if the namespace is not provisioned. Buckets that
// live beside the namespace (the CloudEvents triggers) follow it.
func NamespaceReplicas(ctx context.Context, js jetstream.JetStream, ns string) (int, error) {
	if err := ValidateNamespace(ns); err != nil {
		return 0, err
	}
	s, err := js.Stream(ctx, NewNames(ns).HistoryStream())
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("streams: replicas of namespace %q: %w", ns, err)
	}
	return s.CachedInfo().Config.Replicas, nil
}

// streamConfigs returns the wanted configuration of the namespace's
// streams (the schedules stream aside).
//
// The configurations spell out what the server would otherwise default or
// force, such as AllowRollup on schedule streams, so that the stored
// configuration equals the requested one and a repeated Ensure is a no-op
// update.
func streamConfigs(n Names, o provisionOptions) []jetstream.StreamConfig {
	historyDup := o.duplicateWindow
	if o.historyMaxAge > 0 && historyDup > o.historyMaxAge {
		historyDup = o.historyMaxAge
	}
	return []jetstream.StreamConfig{
		{
			Name:        n.HistoryStream(),
			Description: "cairn workflow histories of namespace " + n.Namespace(),
			Subjects:    []string{n.HistoryWildcard()},
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
			MaxAge:      o.historyMaxAge,
			MaxMsgs:     -1,
			MaxBytes:    -1,
			MaxMsgSize:  o.maxMsgSize,
			Storage:     o.storage,
			Replicas:    o.replicas,
			Duplicates:  historyDup,
			// Direct get lets the engine load a history without creating
			// consumer state on the server (docs/design/engine.md).
			AllowDirect: true,
			// Reset and redrive close a run and begin its successor in one
			// atomic batch; workflow tasks never use batches (too slow on
			// R1 file storage, see jetstream-facts).
			AllowAtomicPublish: true,
		},
		func() jetstream.StreamConfig {
			c := scheduledWorkQueue(n.InboxStream(), "cairn instance inboxes and durable timers of namespace "+n.Namespace(),
				[]string{n.InboxWildcard(), n.TimerWildcard(), n.AttemptTimerWildcard(), n.RetentionWildcard()}, o)
			// Timers live here because a schedule's target (the inbox
			// subject) must be in the schedule's own stream.
			c.AllowDirect, c.AllowMsgTTL = true, true
			return c
		}(),
		scheduledWorkQueue(n.TasksStream(), "cairn activity tasks and retry delays of namespace "+n.Namespace(),
			[]string{n.TaskWildcard(), n.TaskDelayWildcard()}, o),
		{
			Name:        n.DeadLetterStream(),
			Description: "cairn messages taken off the work queues of namespace " + n.Namespace() + " unprocessed, with the reason",
			Subjects:    []string{n.DeadLetterWildcard()},
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
			MaxAge:      DeadLetterMaxAge,
			MaxMsgs:     -1,
			// Bounded, so that a flood of bad messages cannot fill the
			// disk: the oldest dead letters go first.
			MaxBytes:   DeadLetterMaxBytes,
			MaxMsgSize: o.maxMsgSize,
			Storage:    o.storage,
			Replicas:   o.replicas,
			Duplicates: o.duplicateWindow,
		},
	}
}

// Dead letters are kept 30 days, and at most 1 GiB of them.
const (
	DeadLetterMaxAge   = 30 * 24 * time.Hour
	DeadLetterMaxBytes = 1 << 30
)

// scheduledWorkQueue is the configuration shared by the work-queue streams
// that hold message schedules (inbox, tasks, schedules). It spells out
// AllowRollup, which the server forces on for schedules (each subject keeps
// its latest schedule only), so that a repeated Ensure is a no-op.
func scheduledWorkQueue(name, description string, subjects []string, o provisionOptions) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              name,
		Description:       description,
		Subjects:          subjects,
		Retention:         jetstream.WorkQueuePolicy,
		Discard:           jetstream.DiscardOld,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgSize:        o.maxMsgSize,
		Storage:           o.storage,
		Replicas:          o.replicas,
		Duplicates:        o.duplicateWindow,
		AllowMsgSchedules: true,
		AllowRollup:       true,
	}
}

// bucketConfigs returns the wanted configuration of the namespace's KV
// buckets (the schedules bucket aside).
func bucketConfigs(n Names, o provisionOptions) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{
		{
			Bucket:      n.InstancesBucket(),
			Description: "cairn instance summaries of namespace " + n.Namespace(),
			History:     1,
			Storage:     o.storage,
			Replicas:    o.replicas,
		},
		{
			Bucket:      n.RegistryBucket(),
			Description: "cairn registered workflow and activity types of namespace " + n.Namespace(),
			History:     1,
			Storage:     o.storage,
			Replicas:    o.replicas,
		},
		{
			Bucket:      n.WorkersBucket(),
			Description: "cairn live workers of namespace " + n.Namespace(),
			History:     1,
			TTL:         WorkersTTL,
			Storage:     o.storage,
			Replicas:    o.replicas,
		},
		{
			Bucket:      n.SecretsBucket(),
			Description: "cairn secrets of namespace " + n.Namespace(),
			History:     1,
			Storage:     o.storage,
			Replicas:    o.replicas,
		},
		{
			Bucket:      n.CallbacksBucket(),
			Description: "cairn callback decisions of namespace " + n.Namespace(),
			History:     1,
			TTL:         CallbacksMaxAge,
			Storage:     o.storage,
			Replicas:    o.replicas,
		},
	}
}

// ensureStream makes the stream exist with cfg.
//
// nats.go's CreateOrUpdateStream is not enough on its own: when two processes
// both see the stream missing, the loser of the create gets "stream name
// already in use" if the configurations are normalized differently, and an
// update of a stream with another retention fails with an opaque server
// error. So: look, check compatibility, then create or update, and start over
// when the stream appeared or vanished in between.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	var lastErr error
	for range ensureAttempts {
		s, err := js.Stream(ctx, cfg.Name)
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			create := cfg
			if create.Replicas == 0 {
				create.Replicas = 1
			}
			_, err = js.CreateStream(ctx, create)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				lastErr = err
				continue // somebody else created it first; check theirs
			}
			if err != nil {
				return fmt.Errorf("streams: create stream %q: %w", cfg.Name, err)
			}
			return nil
		case err != nil:
			return fmt.Errorf("streams: look up stream %q: %w", cfg.Name, err)
		}
		have := s.CachedInfo().Config
		if err := checkCompatible(have, cfg); err != nil {
			return err
		}
		update := cfg
		if update.Replicas == 0 {
			update.Replicas = have.Replicas
		}
		if !needsUpdate(have, update) {
			// Updating a stream while another process creates a consumer
			// on it races inside nats-server 2.15 (fileStore.UpdateConfig
			// against ConsumerStore); an unchanged stream is left alone.
			return nil
		}
		_, err = js.UpdateStream(ctx, update)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			lastErr = err
			continue // deleted under us; create it
		}
		if err != nil {
			return fmt.Errorf("streams: update stream %q: %w", cfg.Name, err)
		}
		return nil
	}
	return fmt.Errorf("streams: ensure stream %q: gave up after %d attempts: %w", cfg.Name, ensureAttempts, lastErr)
}

// needsUpdate reports whether an existing stream differs from the wanted
// configuration in a field cairn sets.
func needsUpdate(have, want jetstream.StreamConfig) bool {
	return !slices.Equal(have.Subjects, want.Subjects) ||
		have.Description != want.Description ||
		have.Discard != want.Discard ||
		have.MaxAge != want.MaxAge ||
		have.MaxMsgSize != want.MaxMsgSize ||
		have.Replicas != want.Replicas ||
		have.Duplicates != want.Duplicates ||
		have.AllowDirect != want.AllowDirect ||
		have.AllowMsgSchedules != want.AllowMsgSchedules ||
		have.AllowMsgTTL != want.AllowMsgTTL ||
		have.AllowRollup != want.AllowRollup ||
		have.AllowAtomicPublish != want.AllowAtomicPublish
}

// checkCompatible rejects existing streams that an update cannot convert:
// the server refuses to change retention or storage, and a mirror cannot
// take schedules or direct publishes.
func checkCompatible(have, want jetstream.StreamConfig) error {
	if have.Retention != want.Retention {
		return fmt.Errorf("%w: stream %q has retention %s, cairn needs %s", ErrIncompatibleStream, want.Name, have.Retention, want.Retention)
	}
	if have.Storage != want.Storage {
		return fmt.Errorf("%w: stream %q has %s storage, cairn needs %s", ErrIncompatibleStream, want.Name, have.Storage, want.Storage)
	}
	if have.Mirror != nil {
		return fmt.Errorf("%w: stream %q is a mirror of %q", ErrIncompatibleStream, want.Name, have.Mirror.Name)
	}
	return nil
}

// ensureBucket makes the KV bucket exist with cfg, retrying a lost creation
// race like ensureStream does. A cfg without replicas keeps those of an
// existing bucket and creates a missing one with one.
func ensureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) error {
	if kv, err := js.KeyValue(ctx, cfg.Bucket); err == nil {
		if st, err := kv.Status(ctx); err == nil {
			have := st.Config()
			if cfg.Replicas == 0 {
				cfg.Replicas = have.Replicas
			}
			if have.History == cfg.History && have.TTL == cfg.TTL && have.Replicas == cfg.Replicas {
				// Unchanged: leave it alone (see ensureStream for why).
				return nil
			}
		}
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	var err error
	for range ensureAttempts {
		_, err = js.CreateOrUpdateKeyValue(ctx, cfg)
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("streams: ensure key-value bucket %q: %w", cfg.Bucket, err)
	}
	return nil
}
