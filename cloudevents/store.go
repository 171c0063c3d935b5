package cloudevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
)

// TriggersBucket is the KV bucket holding the triggers of namespace ns.
func TriggersBucket(ns string) string { return streams.NewNames(ns).TriggersBucket() }

// ErrTriggerNotFound is returned by Store.Get and Store.Delete for a name
// that is not stored.
var ErrTriggerNotFound = errors.New("trigger not found")

// Store keeps a namespace's triggers in its KV bucket, one key per trigger
// name, the value the trigger as JSON.
type Store struct {
	kv jetstream.KeyValue
}

// OpenStore opens the triggers bucket of ns, creating it if it is missing
// (idempotent; concurrent creators agree). The bucket has as many replicas
// as the namespace's streams (one before the namespace is provisioned), and
// follows them when an operator scales the namespace.
func OpenStore(ctx context.Context, js jetstream.JetStream, ns string) (*Store, error) {
	cfg := jetstream.KeyValueConfig{
		Bucket:      TriggersBucket(ns),
		Description: "cairn: CloudEvents triggers of namespace " + ns,
		History:     5,
		Storage:     jetstream.FileStorage,
	}
	replicas, err := streams.NamespaceReplicas(ctx, js, ns)
	if err != nil {
		return nil, fmt.Errorf("events: triggers bucket: %w", err)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	switch {
	case err == nil:
		st, err := kv.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("events: triggers bucket: %w", err)
		}
		have := st.Config()
		cfg.Replicas = have.Replicas
		if replicas > 0 {
			cfg.Replicas = replicas
		}
		if have.History == cfg.History && have.Replicas == cfg.Replicas {
			return &Store{kv: kv}, nil
		}
	case errors.Is(err, jetstream.ErrBucketNotFound):
		cfg.Replicas = max(replicas, 1)
	default:
		return nil, fmt.Errorf("events: triggers bucket: %w", err)
	}
	kv, err = js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("events: triggers bucket: %w", err)
	}
	return &Store{kv: kv}, nil
}

// OpenExistingStore opens the triggers bucket without creating it.
func OpenExistingStore(ctx context.Context, js jetstream.JetStream, ns string) (*Store, error) {
	kv, err := js.KeyValue(ctx, TriggersBucket(ns))
	if err != nil {
		return nil, fmt.Errorf("events: triggers bucket: %w", err)
	}
	return &Store{kv: kv}, nil
}

// Put validates t and stores it, replacing a trigger of the same name.
func (s *Store) Put(ctx context.Context, t Trigger) error {
	if err := t.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = s.kv.Put(ctx, t.Name, b)
	return err
}

// Get returns the trigger name.
func (s *Store) Get(ctx context.Context, name string) (*Trigger, error) {
	if validateName(name) != nil {
		return nil, fmt.Errorf("%w: %q", ErrTriggerNotFound, name)
	}
	e, err := s.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrTriggerNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	return decodeTrigger(e.Value())
}

// Delete removes the trigger name.
func (s *Store) Delete(ctx context.Context, name string) error {
	if _, err := s.Get(ctx, name); err != nil {
		return err
	}
	return s.kv.Delete(ctx, name)
}

// List returns every trigger, by name. Entries that do not decode (written
// by a newer version, or by hand) are skipped and reported in the error.
func (s *Store) List(ctx context.Context) ([]Trigger, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []Trigger
	var errs []error
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		t, err := decodeTrigger(e.Value())
		if err != nil {
			errs = append(errs, fmt.Errorf("key %q: %w", k, err))
			continue
		}
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

func decodeTrigger(b []byte) (*Trigger, error) {
	var t Trigger
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidTrigger, err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Config is the file given to `cairn dev --triggers` and `cairn server
// --triggers`: triggers, and activity types bound to NATS services.
type Config struct {
	Triggers []Trigger       `json:"triggers"`
	Services []ServiceConfig `json:"services,omitempty"`
}

// ServiceConfig binds an activity type to a NATS request/reply service
// subject (see package bindings).
type ServiceConfig struct {
	// Activity is the activity type name.
	Activity string `json:"activity"`
	// TaskQueue is the task queue of the activity (default "default").
	TaskQueue string `json:"taskQueue,omitempty"`
	// Subject is the service's request subject.
	Subject string `json:"subject"`
	// Timeout bounds one request when the activity has no start-to-close
	// timeout (Go duration, default 30s).
	Timeout string `json:"timeout,omitempty"`
}

// LoadConfig reads and validates a config file (JSON). Unknown fields are
// errors, so a typo does not silently disable a filter.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i := range c.Triggers {
		if err := c.Triggers[i].Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if seen[c.Triggers[i].Name] {
			return nil, fmt.Errorf("%s: trigger %q declared twice", path, c.Triggers[i].Name)
		}
		seen[c.Triggers[i].Name] = true
	}
	for i, s := range c.Services {
		if s.Activity == "" || s.Subject == "" {
			return nil, fmt.Errorf("%s: services[%d]: activity and subject are required", path, i)
		}
	}
	return &c, nil
}

// Apply stores the config's triggers (replacing those of the same names;
// others are kept).
func (s *Store) Apply(ctx context.Context, c *Config) error {
	for _, t := range c.Triggers {
		if err := s.Put(ctx, t); err != nil {
			return fmt.Errorf("trigger %q: %w", t.Name, err)
		}
	}
	return nil
}

// snapshot is the in-memory copy of the bucket the ingress matches
// against, kept current by a watcher.
type snapshot struct {
	mu       sync.RWMutex
	triggers map[string]*Trigger
	ready    chan struct{}
}

func newSnapshot() *snapshot {
	return &snapshot{triggers: map[string]*Trigger{}, ready: make(chan struct{})}
}

func (s *snapshot) matching(matches func(*Trigger) bool) []*Trigger {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Trigger
	for _, t := range s.triggers {
		if matches(t) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *snapshot) set(name string, t *Trigger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == nil {
		delete(s.triggers, name)
	} else {
		s.triggers[name] = t
	}
}

// watch keeps snap current until ctx ends. It closes snap.ready once the
// bucket's current content is loaded.
func (s *Store) watch(ctx context.Context, snap *snapshot, warn func(msg string, args ...any)) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	go func() {
		defer w.Stop()
		initial := true
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					if initial {
						initial = false
						close(snap.ready)
					}
					continue
				}
				if e.Operation() != jetstream.KeyValuePut {
					snap.set(e.Key(), nil)
					continue
				}
				t, err := decodeTrigger(e.Value())
				if err != nil {
					warn("ignoring an invalid trigger in the bucket", "key", e.Key(), "error", err)
					snap.set(e.Key(), nil)
					continue
				}
				snap.set(e.Key(), t)
			}
		}
	}()
	return nil
}
