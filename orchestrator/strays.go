package orchestrator

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/cairnhq/cairn/streams"
)

// DefaultStraySweep is how often a worker sweeps the strays of its
// namespace's work queues unless Options.StraySweep says otherwise.
const DefaultStraySweep = 10 * time.Minute

// runStraySweeper moves the strays of the namespace's work queues (messages
// on subjects no consumer reads, streams.SweepStrays) to the dead letters,
// at start and then every Options.StraySweep, give or take a tenth so
// that the workers of a namespace do not sweep in step. Sweeps by several
// workers at once are harmless. It returns a function that stops it and
// waits.
func (w *Worker) runStraySweeper(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if n, err := streams.SweepStrays(ctx, w.js, w.names); err != nil && ctx.Err() == nil {
				w.log.Warn("sweeping stray messages failed; trying again later", "error", err, "moved", n)
			} else if n > 0 {
				w.log.Warn("stray messages moved to the dead letters: no consumer reads their subjects", "moved", n)
			}
			every := w.opts.StraySweep
			jitter := time.Duration(rand.Int64N(int64(every)/5+1)) - every/10
			select {
			case <-ctx.Done():
				return
			case <-time.After(every + jitter):
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
