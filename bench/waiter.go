package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/streams"
)

// waiter selects how the benchmarks wait for results: "client" (the
// default) is WorkflowRun.Get; "head" is waitHead below, a what-if that
// shows what a notification-safe, head-only wait would give. It is not the
// product's API; keep "client" for the figures of record.
var waiter = "client"

// getResult waits for run to close and decodes its result into valuePtr.
//
// On a cluster, WorkflowRun.Get may answer ErrNotFound for a run Start has
// just returned: it reads the instance's last history message with a direct
// get, which any replica of the history stream answers, and a follower that
// has not applied the run's first message yet says there is none (the
// stream's leader has it: it acknowledged it). The bench asks again, up to
// notFoundRetries times, and counts these answers (e.notFound); anything
// else, or a run still not found after that, fails the benchmark.
func (e *env) getResult(ctx context.Context, run *client.WorkflowRun, valuePtr any) error {
	if waiter == "head" {
		return waitHead(ctx, e.nc, run.ID, valuePtr)
	}
	for try := 0; ; try++ {
		err := run.Get(ctx, valuePtr)
		if !errors.Is(err, client.ErrNotFound) || !e.mode.clustered() || try == notFoundRetries {
			return err
		}
		e.notFound.Add(1)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Millisecond << try):
		}
	}
}

// notFoundRetries bounds how often getResult asks again after a
// not-found answer on a cluster: 1 + 2 + ... + 256 ms, half a second.
const notFoundRetries = 9

// waitHead waits for the current run of id to close by reading only the
// last history message (one direct get) whenever the history subject sees
// a publish. The server delivers that publish to core subscribers before
// the stream has stored it, so a read that still finds the run open is
// retried after 1, 2, 4... ms (capped at 2 s) instead of waiting for the
// next periodic poll. The close event is in the last message, whose body
// is decoded alone.
func waitHead(ctx context.Context, nc *nats.Conn, id string, valuePtr any) error {
	names := streams.NewNames("default")
	ch := make(chan struct{}, 1)
	sub, err := nc.Subscribe(names.HistorySubject(id), func(*nats.Msg) {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	const maxWait = 2 * time.Second
	wait := maxWait
	for {
		m, err := streams.LastMsg(ctx, nc, names.HistoryStream(), names.HistorySubject(id))
		if err != nil && !errors.Is(err, streams.ErrMsgNotFound) {
			return err
		}
		if err == nil && m.Header.Get("Cairn-Status") != string(history.StatusRunning) {
			bs, err := history.DecodeBatches(m.Data)
			if err != nil {
				return err
			}
			b := bs[len(bs)-1]
			for _, ev := range b {
				switch a := ev.Attributes.(type) {
				case *history.WorkflowCompleted:
					if valuePtr == nil || len(a.Result) == 0 {
						return nil
					}
					return json.Unmarshal(a.Result, valuePtr)
				case *history.WorkflowFailed, *history.WorkflowCanceled, *history.WorkflowTerminated:
					return fmt.Errorf("%s closed with %s", id, ev.Type)
				}
			}
			return fmt.Errorf("%s: last history message has no close event", id)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-ch:
			wait = time.Millisecond
		case <-t.C:
			wait = min(2*wait, maxWait)
		}
		t.Stop()
	}
}
