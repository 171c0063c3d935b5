package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// item is an inbox message, parsed.
type item struct {
	msg  jetstream.Msg
	kind string
	run  string
	// ev is the candidate event for Execute (results, fires, cancels).
	ev *history.Event
	// start wakes carry the client's start batch and the head it expected.
	start       history.Batch
	expectedSeq uint64
	redelivered bool
	// seq is the message's inbox stream sequence (0 if unknown).
	seq uint64
	// published is when the message was stored (zero if unknown).
	published time.Time
	// token is the attempt token an activity attempt's outcome presents
	// (a result or an attempt timeout), timerToken the token of the timer
	// a fire or timeout comes from.
	token, timerToken string
	// reason is a terminate request's reason, reset a reset request.
	reason string
	reset  *store.ResetRequest
	// unsigned marks a timer fire or execution timeout that carries no
	// token at all: a schedule armed before timer tokens existed, or a
	// forgery. It is never applied; resignUnsigned arms its timer again,
	// signed, at the timer's own due time.
	unsigned bool
}

// parseItems parses a task's messages. A malformed one is a dead letter:
// it would never parse. redelivered tells whether any came back.
func (w *Worker) parseItems(ctx context.Context, log *slog.Logger, msgs []jetstream.Msg) (items []*item, redelivered bool) {
	items = make([]*item, 0, len(msgs))
	for _, m := range msgs {
		it, err := parseItem(m)
		if err == nil {
			err = w.mayBeSent(m, it.kind)
		}
		if err != nil {
			log.Warn("malformed inbox message dropped", "error", err)
			w.deadLetter(ctx, m, "malformed: "+err.Error())
			continue
		}
		redelivered = redelivered || it.redelivered
		items = append(items, it)
	}
	return items, redelivered
}

// parseItem parses an inbox message (itemOf) and keeps it for its
// acknowledgement.
func parseItem(m jetstream.Msg) (*item, error) {
	var delivered, seq uint64
	var published time.Time
	if md, err := m.Metadata(); err == nil {
		delivered, seq, published = md.NumDelivered, md.Sequence.Stream, md.Timestamp
	}
	it, err := itemOf(m.Headers(), m.Data(), delivered, published)
	if err != nil {
		return nil, err
	}
	it.msg, it.seq = m, seq
	return it, nil
}

// itemOf parses an inbox message from its headers and body, the number of
// times it was delivered (0 if unknown) and when it was stored.
func itemOf(h nats.Header, data []byte, delivered uint64, published time.Time) (*item, error) {
	in, err := store.ParseInbox(h, data)
	if err != nil {
		return nil, err
	}
	return &item{kind: in.Kind, run: in.Run, ev: in.Event, start: in.Start, expectedSeq: in.ExpectedSeq,
		reason: in.Reason, reset: in.Reset,
		redelivered: delivered > 1, published: published, token: h.Get(activities.HeaderAttemptToken),
		timerToken: h.Get(store.HeaderTimerToken)}, nil
}

// attemptOf returns the activity attempt whose outcome the item is (a
// result or an attempt timeout reported by a worker's timer); ok is false
// for every other item.
func attemptOf(it *item) (activityID string, attempt int, ok bool) {
	if it.kind != store.KindActivityResult && it.kind != store.KindAttemptTimeout {
		return "", 0, false
	}
	switch a := it.ev.Attributes.(type) {
	case *history.ActivityCompleted:
		return strconv.FormatInt(a.ID, 10), a.Attempt, true
	case *history.ActivityFailed:
		return strconv.FormatInt(a.ID, 10), a.Attempt, true
	}
	return "", 0, false
}

// timerOf returns the name of the run's timer a fire or timeout comes
// from (t<id>, a<id>, w); ok is false for every other item.
func timerOf(it *item) (name string, ok bool) {
	switch it.kind {
	case store.KindWorkflowTimeout:
		return workflowTimerName, true
	case store.KindTimerFired:
		if a, isFire := it.ev.Attributes.(*history.TimerFired); isFire {
			return userTimerName(a.ID), true
		}
	case store.KindActivityTimeout:
		if a, isFailed := it.ev.Attributes.(*history.ActivityFailed); isFailed {
			return activityTimerName(a.ID), true
		}
	}
	return "", false
}

// signedOnly drops, terminating their messages, what the engine did not
// send or hand out: the outcome of an activity attempt without that
// attempt's token (the engine did not hand the attempt to whoever
// published it), a timer fire or timeout without its timer's token (the
// engine did not schedule it). See attemptTokens.
func (w *Worker) signedOnly(ctx context.Context, log *slog.Logger, workflowID string, items []*item) []*item {
	out := items[:0]
	for _, it := range items {
		if aid, attempt, ok := attemptOf(it); ok && !w.tokens.valid(workflowID, it.run, aid, attempt, it.token) {
			log.Warn("activity outcome without its attempt's token refused", "run", it.run, "activity_id", aid,
				"attempt", attempt, "kind", it.kind, "token_given", it.token != "")
			w.deadLetter(ctx, it.msg, "no valid attempt token")
			continue
		}
		name, isTimer := timerOf(it)
		switch {
		case !isTimer:
		case it.timerToken == "" && (it.kind == store.KindTimerFired || it.kind == store.KindWorkflowTimeout):
			it.unsigned = true // resignUnsigned arms the timer again, signed
		case !w.tokens.validTimer(workflowID, it.run, name, it.timerToken):
			log.Warn("timer fire without its timer's token refused", "run", it.run, "timer", name, "kind", it.kind,
				"token_given", it.timerToken != "")
			w.deadLetter(ctx, it.msg, "no valid timer token")
			continue
		}
		out = append(out, it)
	}
	return out
}

// errWrongSender marks an inbox message of a kind its sender may not send.
var errWrongSender = errors.New("sender may not send this kind")

// mayBeSent checks that the message's sender, as its subject names it
// (streams.InboxSender), may send a message of this kind: a client cannot
// fire a timer or report an activity's outcome, an activity worker can
// report nothing else. The NATS roles let each sender publish on its own
// subjects only (streams.RolePermissions), so a role cannot send what its
// subject does not allow.
//
// A message that names a schedule (Nats-Scheduler) was fired by the server
// from it, or asks for its purge. Whoever may publish in the inbox stream
// may schedule a message to any subject of it, the engine's included: so a
// scheduled message counts only from the engine's timers, or, for the
// outcome of an activity attempt, from an attempt timer (which activity
// workers arm).
func (w *Worker) mayBeSent(m jetstream.Msg, kind string) error {
	_, _, sender, err := w.names.InboxSenderOf(m.Subject())
	if err != nil {
		return err
	}
	outcome := kind == store.KindActivityResult || kind == store.KindAttemptTimeout
	switch sender {
	case streams.SenderActivity:
		if !outcome {
			return fmt.Errorf("%w: %q on an activity worker's subject", errWrongSender, kind)
		}
	case streams.SenderClient:
		if !clientKinds[kind] {
			return fmt.Errorf("%w: %q on a client's subject", errWrongSender, kind)
		}
	}
	switch scheduler := m.Headers().Get(timers.HeaderScheduler); {
	case scheduler == "", w.names.IsTimerSubject(scheduler):
	case w.names.IsAttemptTimerSubject(scheduler) && outcome:
	default:
		return fmt.Errorf("%w: %q scheduled from %q", errWrongSender, kind, scheduler)
	}
	return nil
}

// clientKinds are the inbox messages clients send.
var clientKinds = map[string]bool{
	store.KindStart: true, store.KindSignal: true, store.KindCancel: true, store.KindTerminated: true,
	store.KindPause: true, store.KindResume: true, store.KindReset: true, store.KindCallback: true,
	store.KindTerminateRequest: true, store.KindResetRequest: true,
}

// deadLetter moves an inbox message the engine will never process to the
// namespace's dead letters, with the reason (streams.DeadLetter).
func (w *Worker) deadLetter(ctx context.Context, m jetstream.Msg, reason string) {
	if err := streams.DeadLetter(ctx, w.js, w.names, "inbox", m, reason); err != nil {
		w.log.Warn("dead letter not stored; the message is terminated all the same", "error", err)
	}
}
