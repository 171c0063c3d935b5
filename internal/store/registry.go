package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
)

// Registry records which workflow and activity types workers serve on which
// task queue. The registry bucket remembers every type ever registered (a
// start of a type no worker ever knew is rejected at once); the workers
// bucket holds one heartbeat per live worker, expiring with the bucket's
// max age, so describe can say that a run waits for a worker.
type Registry struct {
	types   jetstream.KeyValue
	workers jetstream.KeyValue
	names   streams.Names
}

// WorkerInfo is the heartbeat a worker publishes.
type WorkerInfo struct {
	ID         string    `json:"id"`
	Host       string    `json:"host"`
	PID        int       `json:"pid"`
	TaskQueue  string    `json:"taskQueue"`
	Workflows  []string  `json:"workflows,omitempty"`
	Activities []string  `json:"activities,omitempty"`
	BuildID    string    `json:"buildId,omitempty"`
	Started    time.Time `json:"started"`
	Heartbeat  time.Time `json:"heartbeat"`
}

// Serves reports whether the worker runs workflow type typ on queue.
func (wi *WorkerInfo) Serves(queue, typ string) bool {
	if wi.TaskQueue != queue {
		return false
	}
	for _, t := range wi.Workflows {
		if t == typ {
			return true
		}
	}
	return false
}

// OpenRegistry opens the registry buckets of a namespace.
func OpenRegistry(ctx context.Context, js jetstream.JetStream, names streams.Names) (*Registry, error) {
	types, err := js.KeyValue(ctx, names.RegistryBucket())
	if err != nil {
		return nil, fmt.Errorf("orchestrator: registry bucket: %w", err)
	}
	workers, err := js.KeyValue(ctx, names.WorkersBucket())
	if err != nil {
		return nil, fmt.Errorf("orchestrator: workers bucket: %w", err)
	}
	return &Registry{types: types, workers: workers, names: names}, nil
}

type typeRecord struct {
	Kind       string    `json:"kind"`
	Type       string    `json:"type"`
	TaskQueue  string    `json:"taskQueue"`
	Registered time.Time `json:"registered"`
}

// Register records that kind ("workflow" or "activity") typ is served on
// queue. Registering again is a no-op.
func (r *Registry) Register(ctx context.Context, kind, queue, typ string) error {
	data, _ := json.Marshal(typeRecord{Kind: kind, Type: typ, TaskQueue: queue, Registered: time.Now().UTC()})
	_, err := r.types.Create(ctx, r.names.RegistryKey(kind, queue, typ), data)
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("register %s %q on %q: %w", kind, typ, queue, err)
	}
	return nil
}

// Known reports whether kind typ was ever registered on queue.
func (r *Registry) Known(ctx context.Context, kind, queue, typ string) (bool, error) {
	_, err := r.types.Get(ctx, r.names.RegistryKey(kind, queue, typ))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Heartbeat publishes a worker's liveness record.
func (r *Registry) Heartbeat(ctx context.Context, wi *WorkerInfo) error {
	wi.Heartbeat = time.Now().UTC()
	data, _ := json.Marshal(wi)
	_, err := r.workers.Put(ctx, wi.ID, data)
	return err
}

// Leave removes a worker's liveness record at shutdown.
func (r *Registry) Leave(ctx context.Context, id string) error {
	return r.workers.Delete(ctx, id)
}

// LiveWorkers returns the workers whose heartbeat has not expired.
func (r *Registry) LiveWorkers(ctx context.Context) ([]WorkerInfo, error) {
	lister, err := r.workers.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []WorkerInfo
	for k := range lister.Keys() {
		e, err := r.workers.Get(ctx, k)
		if err != nil {
			continue
		}
		var wi WorkerInfo
		if json.Unmarshal(e.Value(), &wi) == nil {
			out = append(out, wi)
		}
	}
	return out, nil
}

// TypeRecord is a registered type: a workflow or activity type some worker
// served on a task queue, and when it first did.
type TypeRecord = typeRecord

// Types returns every type ever registered in the namespace.
func (r *Registry) Types(ctx context.Context) ([]TypeRecord, error) {
	lister, err := r.types.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, err
	}
	var out []TypeRecord
	for k := range lister.Keys() {
		e, err := r.types.Get(ctx, k)
		if err != nil {
			continue
		}
		var tr typeRecord
		if json.Unmarshal(e.Value(), &tr) == nil {
			out = append(out, tr)
		}
	}
	return out, nil
}
