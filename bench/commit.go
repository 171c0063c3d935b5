package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/timers"
)

// The COMMIT benchmark measures the two commit alternatives of
// architecture.md §3 raw against the server, without the engine around
// them. Every goroutine owns one instance and commits to it in a loop for
// cfg.commitDur, each commit conditional on the sequence of its previous
// one:
//
//   - single: ONE history message with Nats-Expected-Last-Subject-Sequence
//     and a Nats-Msg-Id, sync publish, on the namespace's real history
//     stream (what Store.Append does);
//   - single+cmds: the same, then the two commands a typical task emits
//     (an activity task on the tasks stream and a timer schedule on the
//     inbox stream) published async and awaited, as emit does: the full
//     steps 5-6 of the protocol;
//   - atomic: an atomic batch of three messages (history + task + timer
//     schedule) on a separate stream with AllowAtomicPublish, the expected
//     sequence and Msg-Id on message 1, messages 1-2 published plainly and
//     the commit sent as a request (one round trip).

// commitPayload stands in for a batch of two JSON events.
var commitPayload = []byte(`[{"seq":41,"time":"2026-01-01T00:00:00.000000001Z","type":"ActivityCompleted","attributes":{"id":40,"attempt":1,"result":40}},` +
	`{"seq":42,"time":"2026-01-01T00:00:00.000000001Z","type":"ActivityScheduled","attributes":{"id":42,"activityType":"Noop","input":41,"options":{}}}]`)

const atomicStream = "BENCH_ATOMIC"

func runCOMMIT(ctx context.Context, cfg *config, m mode) (metrics, error) {
	e, err := newEnv(ctx, m, nil)
	if err != nil {
		return nil, err
	}
	defer e.close()
	if _, err := e.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:               atomicStream,
		Subjects:           []string{"bench.hist.>", "bench.task.>", "bench.timer.>", "bench.inbox.>"},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		Duplicates:         2 * time.Minute,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		AllowMsgSchedules:  true,
		Replicas:           max(m.replicas, 1),
	}); err != nil {
		return nil, fmt.Errorf("create %s: %w", atomicStream, err)
	}
	names := streams.NewNames("default")
	out := metrics{}
	for _, v := range []struct {
		name string
		fn   func(g int) commitFunc
	}{
		{"single", func(g int) commitFunc { return singleCommit(e.js, names, g, false) }},
		{"single_cmds", func(g int) commitFunc { return singleCommit(e.js, names, g, true) }},
		{"atomic", func(g int) commitFunc { return atomicCommit(e.nc, g) }},
	} {
		for _, gs := range []int{1, 8} {
			rate, p50, err := driveCommits(ctx, cfg.commitDur, gs, v.fn)
			if err != nil {
				return nil, fmt.Errorf("%s x%d: %w", v.name, gs, err)
			}
			key := fmt.Sprintf("COMMIT.%s.%d", v.name, gs)
			out[key+".cps"] = rate
			out[key+".p50_ms"] = p50
		}
	}
	return out, nil
}

// commitFunc makes one conditional commit after the one that returned
// prev (0 for the first) and returns the sequence the next one expects.
type commitFunc func(ctx context.Context, n int, prev uint64) (uint64, error)

// driveCommits runs gs goroutines committing for d and returns the total
// commits per second and the p50 latency of one commit in ms.
func driveCommits(ctx context.Context, d time.Duration, gs int, mk func(g int) commitFunc) (float64, float64, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  []float64
		errs []error
	)
	base := int(time.Now().UnixNano() % 1_000_000) // fresh instances per variant
	deadline := time.Now().Add(d)
	t0 := time.Now()
	for g := range gs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			commit := mk(base*100 + g)
			var mine []float64
			var prev uint64
			var err error
			for n := 0; time.Now().Before(deadline); n++ {
				s := time.Now()
				if prev, err = commit(ctx, n, prev); err != nil {
					break
				}
				mine = append(mine, ms(time.Since(s)))
			}
			mu.Lock()
			lat = append(lat, mine...)
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	return float64(len(lat)) / el.Seconds(), percentile(lat, 50), nil
}

func singleCommit(js jetstream.JetStream, names streams.Names, g int, withCommands bool) commitFunc {
	id := fmt.Sprintf("commit-%d", g)
	key := names.InstanceKey(id)
	subj := names.HistorySubject(id)
	taskSubj := names.TaskSubject("commitbench", "Noop")
	inbox := names.InboxSubject("commitbench", id)
	return func(ctx context.Context, n int, prev uint64) (uint64, error) {
		m := nats.NewMsg(subj)
		m.Data = commitPayload
		m.Header.Set("Cairn-Run", "r1")
		m.Header.Set("Cairn-Status", "running")
		m.Header.Set(nats.MsgIdHdr, key+"/r1/"+strconv.Itoa(2*n+1))
		ack, err := js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(prev))
		if err != nil {
			return 0, err
		}
		if !withCommands {
			return ack.Sequence, nil
		}
		task := nats.NewMsg(taskSubj)
		task.Data = []byte(`{"input":41}`)
		task.Header.Set(nats.MsgIdHdr, "task/"+key+"/r1/"+strconv.Itoa(n))
		tm := timers.NewScheduleMsg(names.TimerSubject(id, "t"+strconv.Itoa(n)), inbox, time.Now().Add(time.Hour), nil, nil)
		var fs []jetstream.PubAckFuture
		for _, c := range []*nats.Msg{task, tm} {
			f, err := js.PublishMsgAsync(c)
			if err != nil {
				return 0, err
			}
			fs = append(fs, f)
		}
		for _, f := range fs {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return 0, err
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		return ack.Sequence, nil
	}
}

// batchAck is the reply to a batch commit: a PubAck or an API error.
type batchAck struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	Batch  string `json:"batch"`
	Count  int    `json:"count"`
	Error  *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

func atomicCommit(nc *nats.Conn, g int) commitFunc {
	hist := fmt.Sprintf("bench.hist.%d", g)
	task := fmt.Sprintf("bench.task.%d", g)
	inbox := fmt.Sprintf("bench.inbox.%d", g)
	return func(ctx context.Context, n int, prev uint64) (uint64, error) {
		id := nuid.Next()
		m1 := nats.NewMsg(hist)
		m1.Data = commitPayload
		m1.Header.Set("Nats-Batch-Id", id)
		m1.Header.Set("Nats-Batch-Sequence", "1")
		m1.Header.Set(nats.ExpectedLastSubjSeqHdr, strconv.FormatUint(prev, 10))
		m1.Header.Set(nats.MsgIdHdr, hist+"/r1/"+strconv.Itoa(2*n+1))
		m2 := timers.NewScheduleMsg(fmt.Sprintf("bench.timer.%d.%d", g, n), inbox, time.Now().Add(time.Hour), nil, nil)
		m2.Header.Set("Nats-Batch-Id", id)
		m2.Header.Set("Nats-Batch-Sequence", "2")
		m3 := nats.NewMsg(task)
		m3.Data = []byte(`{"input":41}`)
		m3.Header.Set("Nats-Batch-Id", id)
		m3.Header.Set("Nats-Batch-Sequence", "3")
		m3.Header.Set("Nats-Batch-Commit", "1")
		if err := nc.PublishMsg(m1); err != nil {
			return 0, err
		}
		if err := nc.PublishMsg(m2); err != nil {
			return 0, err
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		reply, err := nc.RequestMsgWithContext(rctx, m3)
		if err != nil {
			return 0, err
		}
		var ack batchAck
		if err := json.Unmarshal(reply.Data, &ack); err != nil {
			return 0, fmt.Errorf("batch reply %q: %w", reply.Data, err)
		}
		if ack.Error != nil {
			return 0, fmt.Errorf("batch rejected: %d %s", ack.Error.ErrCode, ack.Error.Description)
		}
		if ack.Count != 3 {
			return 0, fmt.Errorf("batch committed %d messages, want 3", ack.Count)
		}
		return ack.Seq - 2, nil // the history message is the first of three
	}
}
