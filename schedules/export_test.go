package schedules

import (
	"context"
	"time"
)

// ProcessFire runs the processing of one scheduled fire (Nats-Schedule-Next
// = next) on r, as if its consumer had delivered it. Tests use it to
// deliver a fire twice: the server rejects a published message carrying
// Nats-Schedule-Next, so a fire cannot be duplicated by publishing.
// OpenRunner must be called once before.
func ProcessFire(ctx context.Context, r *Runner, id string, next time.Time) error {
	return r.process(ctx, id, fire{Next: next})
}

// OpenRunner prepares r for ProcessFire without running it.
func OpenRunner(ctx context.Context, r *Runner) error { return r.open(ctx) }
