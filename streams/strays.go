package streams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SweepStrays moves the strays of the namespace's work queues to its dead
// letters (reason "stray: ..."): messages on inbox and task subjects that
// no consumer can ever read, because their subject does not have the shape
// of any consumer's filter (a missing or extra token, a queue name or slot
// that is not one, a type token that is not an escaped name). Nothing else
// would ever remove them from a work queue. It returns how many it moved.
//
// Messages for a queue or an activity type that nobody serves are not
// strays: they wait for a worker, as they would in any workflow engine
// (schedule-to-start and schedule-to-close timeouts bound the wait). Those
// of subjects a consumer reads but the engine cannot process (a malformed
// body, a wrong slot) are dead-lettered by the engine as it reads them.
//
// Concurrent sweeps are harmless: each copy carries a message id derived
// from the stream sequence, so the dead-letter stream keeps one.
func SweepStrays(ctx context.Context, js jetstream.JetStream, names Names) (int, error) {
	moved := 0
	for _, q := range []struct {
		stream, filter, source string
		readable               func(subject string) bool
	}{
		{names.InboxStream(), names.InboxWildcard(), "inbox", names.inboxReadable},
		{names.TasksStream(), names.TaskWildcard(), "tasks", names.taskReadable},
	} {
		s, err := js.Stream(ctx, q.stream)
		if err != nil {
			return moved, fmt.Errorf("streams: sweep %s: %w", q.stream, err)
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(q.filter))
		if err != nil {
			return moved, fmt.Errorf("streams: sweep %s: %w", q.stream, err)
		}
		for subject := range info.State.Subjects {
			if q.readable(subject) {
				continue
			}
			n, err := moveStrays(ctx, js, s, names, q.source, subject)
			moved += n
			if err != nil {
				return moved, err
			}
		}
	}
	return moved, nil
}

// inboxReadable reports whether a partition consumer's filter
// (InboxPartitionFilters: cairn.<ns>.inbox.<queue>.<slot>.>) matches an
// inbox subject.
func (n Names) inboxReadable(subject string) bool {
	parts := strings.Split(strings.TrimPrefix(subject, n.inboxPrefix), ".")
	if len(parts) < 3 || ValidateQueue(parts[0]) != nil {
		return false
	}
	slot, err := strconv.Atoi(parts[1])
	return err == nil && slot >= 0 && slot < InboxSlots && strconv.Itoa(slot) == parts[1]
}

// taskReadable reports whether an activity consumer's filter (TaskSubject:
// cairn.<ns>.task.<queue>.<type key>) can be this subject.
func (n Names) taskReadable(subject string) bool {
	parts := strings.Split(strings.TrimPrefix(subject, n.taskPrefix), ".")
	if len(parts) != 2 || ValidateQueue(parts[0]) != nil {
		return false
	}
	_, err := UnescapeToken(parts[1])
	return err == nil
}

// moveStrays dead-letters every message stored on subject and deletes it.
func moveStrays(ctx context.Context, js jetstream.JetStream, s jetstream.Stream, names Names, source, subject string) (int, error) {
	moved := 0
	for seq := uint64(1); ; {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return moved, nil
		}
		if err != nil {
			return moved, fmt.Errorf("streams: sweep %q: %w", subject, err)
		}
		dl := deadLetterOf(names, source, m.Subject, m.Header, m.Data, "stray: no consumer reads subject "+subject)
		dl.Header.Set(HeaderDeadStream, s.CachedInfo().Config.Name)
		dl.Header.Set(HeaderDeadSeq, strconv.FormatUint(m.Sequence, 10))
		dl.Header.Set(nats.MsgIdHdr, "stray/"+s.CachedInfo().Config.Name+"/"+strconv.FormatUint(m.Sequence, 10))
		if _, err := js.PublishMsg(ctx, dl); err != nil {
			return moved, fmt.Errorf("streams: dead letter of stray %q: %w", subject, err)
		}
		if err := s.DeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return moved, fmt.Errorf("streams: delete stray %q seq %d: %w", subject, m.Sequence, err)
		}
		moved++
		seq = m.Sequence + 1
	}
}
