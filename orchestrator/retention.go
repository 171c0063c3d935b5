package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/timers"
)

// DefaultRetention is how long a closed instance is kept before it is
// purged, unless WithRetention says otherwise.
const DefaultRetention = 7 * 24 * time.Hour

// KeepForever, as Options.Retention, turns automatic purging off.
const KeepForever time.Duration = -1

// WithRetention sets how long closed instances stay (history, summary)
// before they are purged; d <= 0 keeps them forever. The period is fixed
// when a run closes, by the worker that closes it.
func WithRetention(d time.Duration) Option {
	return func(o *Options) {
		if d <= 0 {
			d = KeepForever
		}
		o.Retention = d
	}
}

// retentionCommand is the schedule, among a run's close commands, that
// purges the instance when its retention ends. Being a close command it is
// re-emitted after a crash like the others; one schedule subject per
// instance means a later close replaces it. A continued run is not final:
// the run that carries on schedules its own. It reports false when there is
// none.
func retentionCommand(cfg commandConfig, id, run string, closeEv *history.Event) (command, bool) {
	if cfg.retention <= 0 || closeEv.Type == history.TypeWorkflowContinuedAsNew {
		return command{}, false
	}
	h := nats.Header{}
	h.Set(hdrRun, run)
	if tok := cfg.tokens.retention(id, run); tok != "" {
		h.Set(store.HeaderTimerToken, tok)
	}
	at := closeEv.Time.Add(cfg.retention)
	return command{kind: cmdRetention, at: at, msg: timers.NewScheduleMsg(cfg.names.RetentionScheduleSubject(id),
		cfg.names.RetentionDueSubject(id), at, h, nil)}, true
}

// runRetention consumes the due retention schedules of the namespace and
// purges their instances. Every worker runs it on one shared durable
// consumer, so each due instance is purged once (at least once: a purge is
// idempotent). It returns a function that stops consuming.
func (w *Worker) runRetention(ctx context.Context) (func(), error) {
	cons, err := w.js.CreateOrUpdateConsumer(ctx, w.names.InboxStream(), jetstream.ConsumerConfig{
		Durable:       w.names.RetentionConsumer(),
		Description:   "cairn retention: purges closed instances of namespace " + w.names.Namespace(),
		FilterSubject: w.names.RetentionDueFilter(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       time.Minute,
		MaxDeliver:    -1,
		MaxAckPending: 256,
	})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: retention consumer: %w", err)
	}
	p := store.NewPurger(w.js, w.names, w.store, w.summaries)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		id, err := w.names.ParseRetentionDueSubject(m.Subject())
		if err != nil {
			w.log.Warn("retention message on a malformed subject dropped", "subject", m.Subject(), "error", err)
			w.deadLetter(ctx, m, err.Error())
			return
		}
		run := m.Headers().Get(hdrRun)
		if !w.tokens.validRetention(id, run, m.Headers().Get(store.HeaderTimerToken)) {
			// Not the engine's schedule: a purge is for good.
			w.log.Warn("retention message without its token refused", "workflow_id", id, "run", run)
			w.deadLetter(ctx, m, "no valid retention token")
			return
		}
		err = p.Purge(ctx, id, run)
		switch {
		case err == nil:
			w.log.Debug("instance purged: retention ended", "workflow_id", id, "run", run)
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrStillRunning), errors.Is(err, store.ErrNewerRun):
			// Restarted with the same id, or purged by hand: the newer
			// run's own close schedules the next purge.
		default:
			w.log.Warn("retention purge failed; will retry", "workflow_id", id, "run", run, "error", err)
			_ = m.NakWithDelay(5 * time.Second)
			return
		}
		_ = m.Ack()
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrNoHeartbeat) {
			w.log.Debug("retention consumer", "error", err)
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("orchestrator: retention consume: %w", err)
	}
	return cc.Stop, nil
}
