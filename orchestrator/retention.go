package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// DefaultRetention is how long a closed instance is kept before it is
// purged, unless WithRetention says otherwise.
const DefaultRetention = 7 * 24 * time.Hour

// KeepForever, as Options.Retention, turns automatic purging off.
const KeepForever time.Duration = -1

// Errors of Purge. Callers decide with errors.Is.
var (
	// ErrStillRunning: the instance's latest run has not closed (or it
	// continued as new), so there is nothing to purge yet.
	ErrStillRunning = errors.New("workflow is still running")
	// ErrNewerRun: the run named is not the instance's latest; purging
	// would delete the newer run too.
	ErrNewerRun = errors.New("workflow has a newer run")
)

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

// scheduleRetention publishes, with a run's close commands, the schedule
// that purges the instance when its retention ends. Being a close command it
// is re-emitted after a crash like the others; one schedule subject per
// instance means a later close replaces it. A continued run is not final:
// the run that carries on schedules its own.
func (w *Worker) scheduleRetention(em *emission, id, run string, closeEv *history.Event) error {
	if w.opts.Retention <= 0 || closeEv.Type == history.TypeWorkflowContinuedAsNew {
		return nil
	}
	h := nats.Header{}
	h.Set(hdrRun, run)
	return em.publish(timers.NewScheduleMsg(w.names.RetentionScheduleSubject(id), w.names.RetentionDueSubject(id),
		closeEv.Time.Add(w.opts.Retention), h, nil))
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
	p := NewPurger(w.js, w.names, w.store, w.summaries)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		id, err := w.names.ParseRetentionDueSubject(m.Subject())
		if err != nil {
			w.log.Warn("retention message on a malformed subject dropped", "subject", m.Subject(), "error", err)
			_ = m.Term()
			return
		}
		run := m.Headers().Get(hdrRun)
		err = p.Purge(ctx, id, run)
		switch {
		case err == nil:
			w.log.Debug("instance purged: retention ended", "workflow_id", id, "run", run)
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrStillRunning), errors.Is(err, ErrNewerRun):
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

// Purger deletes closed instances: their history, their summary and the
// schedules their last run may have left.
type Purger struct {
	js        jetstream.JetStream
	names     streams.Names
	store     *Store
	summaries *Summaries

	mu      sync.Mutex
	streams map[string]jetstream.Stream
}

// NewPurger returns a Purger of the namespace of names.
func NewPurger(js jetstream.JetStream, names streams.Names, store *Store, summaries *Summaries) *Purger {
	return &Purger{js: js, names: names, store: store, summaries: summaries, streams: map[string]jetstream.Stream{}}
}

// Purge deletes instance id if its latest run is closed (and is run, when
// run is given). It never touches a newer run: history is purged only up
// to the closed run's last message, so a run started meanwhile keeps its
// messages, and the summary is deleted only while it reflects no newer
// history. Errors: ErrNotFound (no history), ErrStillRunning (the latest
// run is running or continued as new), ErrNewerRun (run is not the
// latest). Inbox messages left for the instance are not purged: a new run's
// start may be among them, and the orchestrator drops the others.
func (p *Purger) Purge(ctx context.Context, id, run string) error {
	head, err := p.store.Head(ctx, id)
	if err != nil {
		return err
	}
	if head == nil {
		// A summary whose history is gone (a write that raced a purge).
		if err := p.deleteSummary(ctx, id, run, 0); err != nil {
			return err
		}
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if run != "" && head.Run != run {
		return fmt.Errorf("%w: %q run %s is not its latest run (%s is)", ErrNewerRun, id, run, head.Run)
	}
	if head.Status == history.StatusRunning || head.Status == history.StatusContinuedAsNew {
		return fmt.Errorf("%w: %q run %s is %s", ErrStillRunning, id, head.Run, head.Status)
	}
	hist, err := p.stream(ctx, p.names.HistoryStream())
	if err != nil {
		return err
	}
	// Purge below head.Seq+1 only: a run appended after we read the head
	// stays whole.
	if err := hist.Purge(ctx, jetstream.WithPurgeSubject(p.names.HistorySubject(id)), jetstream.WithPurgeSequence(head.Seq+1)); err != nil {
		return fmt.Errorf("purge history of %q run %s: %w", id, head.Run, err)
	}
	// The close already purged the run's schedules; a crash in between may
	// have left some. Only this run's subjects: a newer run has its own.
	inbox, err := p.stream(ctx, p.names.InboxStream())
	if err != nil {
		return err
	}
	if err := inbox.Purge(ctx, jetstream.WithPurgeSubject(strings.TrimSuffix(p.names.TimerInstanceFilter(id), ">")+head.Run+".>")); err != nil {
		return fmt.Errorf("purge timers of %q run %s: %w", id, head.Run, err)
	}
	tasks, err := p.stream(ctx, p.names.TasksStream())
	if err != nil {
		return err
	}
	if err := tasks.Purge(ctx, jetstream.WithPurgeSubject(strings.TrimSuffix(p.names.TaskDelayWildcard(), ">")+p.names.InstanceKey(id)+"."+head.Run+".>")); err != nil {
		return fmt.Errorf("purge delayed activities of %q run %s: %w", id, head.Run, err)
	}
	return p.deleteSummary(ctx, id, head.Run, head.Seq)
}

// deleteSummary deletes the summary of id unless it reflects history newer
// than upTo (0: any summary of run, or any at all when run is empty).
// Compare-and-delete, so a newer run's summary written meanwhile survives.
func (p *Purger) deleteSummary(ctx context.Context, id, run string, upTo uint64) error {
	kv := p.summaries.KV()
	key := p.names.InstanceKey(id)
	for range 10 {
		cur, rev, err := p.summaries.get(ctx, id)
		if err != nil || cur == nil {
			return err
		}
		if (upTo > 0 && cur.HistorySeq > upTo) || (upTo == 0 && run != "" && cur.Run != run) {
			return nil
		}
		err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
		if err == nil {
			return nil
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
			return fmt.Errorf("delete summary of %q: %w", id, err)
		}
	}
	return fmt.Errorf("delete summary of %q: too many concurrent updates", id)
}

func (p *Purger) stream(ctx context.Context, name string) (jetstream.Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.streams[name]; ok {
		return s, nil
	}
	s, err := p.js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	p.streams[name] = s
	return s, nil
}
