package main

import (
	"context"
	"time"

	"github.com/cairnhq/cairn/streams"
)

// resultLag measures, for each workflow, how long after its closing history
// message was stored (the server's timestamp, read with a direct get) the
// client's Get returned. The client learns of appends from a core
// subscription on the history subject, which the server can deliver before
// the stream has stored the message; a Get that misses the close then waits
// for its 2 s re-poll. It returns the lags in ms and how many exceeded 1 s.
func resultLag(ctx context.Context, e *env, ids []string, returned []time.Time) ([]float64, int, error) {
	names := streams.NewNames("default")
	lags := make([]float64, 0, len(ids))
	slow := 0
	for i, id := range ids {
		// From the leader: on a cluster a follower may not have applied
		// the close yet and would answer with an older message.
		m, err := streams.LastMsgFromLeader(ctx, e.nc, names.HistoryStream(), names.HistorySubject(id))
		if err != nil {
			return nil, 0, err
		}
		l := returned[i].Sub(m.Time)
		if l > time.Second {
			slow++
		}
		lags = append(lags, ms(l))
	}
	return lags, slow, nil
}
