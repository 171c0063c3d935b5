package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// Headers of schedule and fire messages.
const (
	// hdrScheduleID names the schedule on its schedule message; the
	// server copies it onto every fire.
	hdrScheduleID = "Cairn-Schedule-Id"
	// hdrTrigger marks a manual fire (TriggerSchedule) and carries its
	// time, RFC 3339 with nanoseconds.
	hdrTrigger     = "Cairn-Schedule-Trigger"
	hdrScheduleTZ  = "Nats-Schedule-Time-Zone"
	updateAttempts = 20
)

// Store keeps the schedules of a namespace: their definitions and state in
// the schedules bucket, their schedule messages in the schedules stream.
// It is safe for concurrent use.
type Store struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	names streams.Names
	kv    jetstream.KeyValue
}

// OpenStore opens the schedules bucket of the namespace (provisioned by
// streams.Ensure; it is not created here).
func OpenStore(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, names streams.Names) (*Store, error) {
	kv, err := js.KeyValue(ctx, names.SchedulesBucket())
	if err != nil {
		return nil, fmt.Errorf("schedules: open bucket %q: %w", names.SchedulesBucket(), err)
	}
	return &Store{nc: nc, js: js, names: names, kv: kv}, nil
}

// Create validates and stores a new schedule and, unless it is paused,
// publishes its schedule message. An id already stored fails with
// ErrExists; an invalid schedule with ErrInvalidSchedule. The state is
// reset; Created is set to now.
func (s *Store) Create(ctx context.Context, sch *Schedule) error {
	spec, err := sch.Normalize()
	if err != nil {
		return err
	}
	sch.Created = time.Now().UTC()
	sch.State = State{}
	b, err := json.Marshal(sch)
	if err != nil {
		return fmt.Errorf("schedules: encode %q: %w", sch.ID, err)
	}
	rev, err := s.kv.Create(ctx, s.names.ScheduleKey(sch.ID), b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("%w: %q", ErrExists, sch.ID)
	}
	if err != nil {
		return fmt.Errorf("schedules: store %q: %w", sch.ID, err)
	}
	sch.Revision = rev
	if sch.Paused {
		return nil
	}
	if err := s.publishSchedule(ctx, sch.ID, spec); err != nil {
		// Do not leave a schedule that looks active but never fires. A
		// process dying right here is covered by the runners, which
		// re-publish missing schedule messages when they start.
		_ = s.kv.Delete(context.WithoutCancel(ctx), s.names.ScheduleKey(sch.ID), jetstream.LastRevision(rev))
		return err
	}
	return nil
}

// Get returns a schedule; ErrNotFound if it is not stored.
func (s *Store) Get(ctx context.Context, id string) (*Schedule, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty id", ErrNotFound)
	}
	e, err := s.kv.Get(ctx, s.names.ScheduleKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("schedules: read %q: %w", id, err)
	}
	return decodeSchedule(e)
}

func decodeSchedule(e jetstream.KeyValueEntry) (*Schedule, error) {
	var sch Schedule
	if err := json.Unmarshal(e.Value(), &sch); err != nil {
		return nil, fmt.Errorf("schedules: decode key %q: %w", e.Key(), err)
	}
	sch.Revision = e.Revision()
	return &sch, nil
}

// List returns every schedule, sorted by id.
func (s *Store) List(ctx context.Context) ([]*Schedule, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedules: list: %w", err)
	}
	var out []*Schedule
	for key := range lister.Keys() {
		id, err := streams.UnescapeToken(key)
		if err != nil {
			continue // not ours
		}
		sch, err := s.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sch)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// put stores sch if its key is still at sch.Revision. It reports false on
// a conflict (someone else wrote first) or if the schedule was deleted.
func (s *Store) put(ctx context.Context, sch *Schedule) (bool, error) {
	b, err := json.Marshal(sch)
	if err != nil {
		return false, fmt.Errorf("schedules: encode %q: %w", sch.ID, err)
	}
	rev, err := s.kv.Update(ctx, s.names.ScheduleKey(sch.ID), b, sch.Revision)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("schedules: update %q: %w", sch.ID, err)
	}
	sch.Revision = rev
	return true, nil
}

// update applies fn to the stored schedule with compare-and-set, retrying
// on conflicts; fn returns false to leave it unchanged.
func (s *Store) update(ctx context.Context, id string, fn func(*Schedule) (bool, error)) (*Schedule, error) {
	for range updateAttempts {
		sch, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		change, err := fn(sch)
		if err != nil || !change {
			return sch, err
		}
		ok, err := s.put(ctx, sch)
		if err != nil {
			return nil, err
		}
		if ok {
			return sch, nil
		}
	}
	return nil, fmt.Errorf("schedules: update %q: too much contention", id)
}

// Pause stops a schedule from firing: it records Paused and purges the
// schedule message. Fires already queued are dropped by the runners.
func (s *Store) Pause(ctx context.Context, id, note string) (*Schedule, error) {
	sch, err := s.update(ctx, id, func(sch *Schedule) (bool, error) {
		sch.Paused, sch.Note = true, note
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return sch, s.purgeSchedule(ctx, id)
}

// Unpause lets a paused schedule fire again. The paused period is not
// caught up: LastFire moves to now.
func (s *Store) Unpause(ctx context.Context, id, note string) (*Schedule, error) {
	var spec Spec
	sch, err := s.update(ctx, id, func(sch *Schedule) (bool, error) {
		var err error
		if spec, err = ParseSpec(sch.Spec, sch.TimeZone); err != nil {
			return false, fmt.Errorf("schedule %q: %w", id, err)
		}
		if now := time.Now().UTC().Truncate(time.Second); now.After(sch.State.LastFire) {
			sch.State.LastFire = now
		}
		sch.Paused, sch.Note = false, note
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return sch, s.publishSchedule(ctx, id, spec)
}

// Delete removes a schedule: its definition first, so a fire still in
// flight finds nothing to start, then its schedule message and queued
// fires. ErrNotFound if it is not stored.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, s.names.ScheduleKey(id)); err != nil {
		return fmt.Errorf("schedules: delete %q: %w", id, err)
	}
	if err := s.purgeSchedule(ctx, id); err != nil {
		return err
	}
	return s.purgeSubject(ctx, s.names.ScheduleFireSubject(id))
}

// Trigger asks the runners to fire a schedule now, outside its spec, even
// while it is paused. The overlap policy applies; the catch-up policy does
// not. It returns the workflow id the start will have.
func (s *Store) Trigger(ctx context.Context, id string) (string, error) {
	sch, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	m := nats.NewMsg(s.names.ScheduleFireSubject(id))
	m.Header.Set(hdrScheduleID, id)
	m.Header.Set(hdrTrigger, now.Format(time.RFC3339Nano))
	if _, err := s.js.PublishMsg(ctx, m, jetstream.WithMsgID("trigger/"+s.names.ScheduleKey(id)+"/"+now.Format(time.RFC3339Nano))); err != nil {
		return "", fmt.Errorf("schedules: trigger %q: %w", id, err)
	}
	return sch.WorkflowID(now), nil
}

// publishSchedule (re)publishes the repeating schedule message of id; the
// server rolls the subject up, so it replaces any previous one.
func (s *Store) publishSchedule(ctx context.Context, id string, spec Spec) error {
	m := nats.NewMsg(s.names.ScheduleSubject(id))
	m.Header.Set(timers.HeaderSchedule, spec.Pattern)
	m.Header.Set(timers.HeaderScheduleTarget, s.names.ScheduleFireSubject(id))
	if spec.TimeZone != "" {
		m.Header.Set(hdrScheduleTZ, spec.TimeZone)
	}
	m.Header.Set(hdrScheduleID, id)
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode >= 10189 && apiErr.ErrorCode <= 10191 {
			// The server's own verdict on the pattern or target.
			return fmt.Errorf("%w: schedule %q: %w", ErrInvalidSchedule, id, err)
		}
		return fmt.Errorf("schedules: publish schedule message of %q: %w", id, err)
	}
	return nil
}

// purgeSchedule removes the schedule message of id, which stops it.
func (s *Store) purgeSchedule(ctx context.Context, id string) error {
	return s.purgeSubject(ctx, s.names.ScheduleSubject(id))
}

func (s *Store) purgeSubject(ctx context.Context, subject string) error {
	st, err := s.js.Stream(ctx, s.names.SchedulesStream())
	if err != nil {
		return fmt.Errorf("schedules: stream: %w", err)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return fmt.Errorf("schedules: purge %s: %w", subject, err)
	}
	return nil
}

// hasScheduleMsg reports whether the schedule message of id is stored, as
// the stream's leader has it (a replica may be behind).
func (s *Store) hasScheduleMsg(ctx context.Context, id string) (bool, error) {
	_, err := streams.LastMsgFromLeader(ctx, s.nc, s.names.SchedulesStream(), s.names.ScheduleSubject(id))
	if errors.Is(err, streams.ErrMsgNotFound) {
		return false, nil
	}
	return err == nil, err
}
