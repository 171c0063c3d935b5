package streams

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter, besides the original message's own.
const (
	// HeaderDeadSubject is the subject the message was published to.
	HeaderDeadSubject = "Cairn-Dead-Subject"
	// HeaderDeadReason says why it was taken off the work queue.
	HeaderDeadReason = "Cairn-Dead-Reason"
	// HeaderDeadStream and HeaderDeadSeq locate it in its stream.
	HeaderDeadStream = "Cairn-Dead-Stream"
	HeaderDeadSeq    = "Cairn-Dead-Seq"
)

// DeadLetter moves a message that will never be processed off its work
// queue: a copy goes to the namespace's dead-letter stream with the reason
// (source names the stream, as in Names.DeadLetterSubject), then the
// message is terminated, which removes it from the queue. If the copy
// cannot be stored the message is terminated all the same (it must not
// clog the queue) and the error is returned for the caller to log.
func DeadLetter(ctx context.Context, js jetstream.JetStream, names Names, source string, m jetstream.Msg, reason string) error {
	dl := deadLetterOf(names, source, m.Subject(), m.Headers(), m.Data(), reason)
	if md, err := m.Metadata(); err == nil {
		dl.Header.Set(HeaderDeadStream, md.Stream)
		dl.Header.Set(HeaderDeadSeq, strconv.FormatUint(md.Sequence.Stream, 10))
	}
	_, err := js.PublishMsg(ctx, dl)
	if len(reason) > 256 {
		reason = reason[:256]
	}
	_ = m.TermWithReason(reason)
	if err != nil {
		return fmt.Errorf("streams: dead letter of %q: %w", m.Subject(), err)
	}
	return nil
}

// deadLetterOf is the dead letter of a message on subject with headers h
// and body data: its headers without the server's directives, its body,
// where it was and why it is dead.
func deadLetterOf(names Names, source, subject string, h nats.Header, data []byte, reason string) *nats.Msg {
	dl := nats.NewMsg(names.DeadLetterSubject(source))
	for k, v := range h {
		if strings.HasPrefix(k, "Nats-") {
			continue // server directives (de-duplication, schedules, rollups) must not act again
		}
		dl.Header[k] = v
	}
	dl.Header.Set(HeaderDeadSubject, subject)
	dl.Header.Set(HeaderDeadReason, reason)
	dl.Data = data
	return dl
}
