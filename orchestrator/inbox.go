package orchestrator

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/store"
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
}

func parseItem(m jetstream.Msg) (*item, error) {
	in, err := store.ParseInbox(m.Headers(), m.Data())
	if err != nil {
		return nil, err
	}
	it := &item{msg: m, kind: in.Kind, run: in.Run, ev: in.Event, start: in.Start, expectedSeq: in.ExpectedSeq}
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		it.redelivered = true
	}
	return it, nil
}
