package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/streams"
)

// Purger deletes closed instances: their history, their summary and the
// schedules their last run may have left.
type Purger struct {
	js        jetstream.JetStream
	names     streams.Names
	history   History
	summaries *Summaries

	mu      sync.Mutex
	streams map[string]jetstream.Stream
}

// NewPurger returns a Purger of the namespace of names.
func NewPurger(js jetstream.JetStream, names streams.Names, history History, summaries *Summaries) *Purger {
	return &Purger{js: js, names: names, history: history, summaries: summaries, streams: map[string]jetstream.Stream{}}
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
	head, err := p.history.Head(ctx, id)
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
	if err := inbox.Purge(ctx, jetstream.WithPurgeSubject(p.names.AttemptTimersFilter(id, head.Run, ""))); err != nil {
		return fmt.Errorf("purge attempt timers of %q run %s: %w", id, head.Run, err)
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
