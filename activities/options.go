package activities

import (
	"log/slog"
	"time"

	"github.com/cairnhq/cairn/telemetry"
)

// Runner defaults.
const (
	DefaultConcurrency   = 64
	DefaultAckWait       = 60 * time.Second
	DefaultShutdownGrace = 30 * time.Second
)

// RunnerOption configures a Runner.
type RunnerOption func(*runnerOptions)

type runnerOptions struct {
	concurrency   int
	ackWait       time.Duration
	autoHeartbeat bool
	logger        *slog.Logger
	grace         time.Duration
	telemetry     *telemetry.Telemetry
	// unsupportedDelay and unsupportedDeliveries: how a task of an
	// unknown protocol version is handed back, and after how many offers
	// it is a dead letter (tests shorten them).
	unsupportedDelay      time.Duration
	unsupportedDeliveries uint64
}

func defaultRunnerOptions() runnerOptions {
	return runnerOptions{
		concurrency:   DefaultConcurrency,
		ackWait:       DefaultAckWait,
		autoHeartbeat: true,
		grace:         DefaultShutdownGrace,

		unsupportedDelay:      unsupportedDelay,
		unsupportedDeliveries: unsupportedDeliveries,
	}
}

// WithConcurrency bounds how many tasks the Runner executes at once; it only
// fetches as many tasks as it has free slots, so tasks it cannot start yet
// stay available to other workers. Values below 1 are ignored.
func WithConcurrency(n int) RunnerOption {
	return func(o *runnerOptions) {
		if n >= 1 {
			o.concurrency = n
		}
	}
}

// WithAckWait sets the consumer's AckWait: how long JetStream waits for an
// ack or a heartbeat before redelivering a task to another worker. It is how
// fast a dead worker's tasks are taken over. For activities with a heartbeat
// timeout, set it to that timeout. The consumer is shared by every Runner of
// the type, so they should agree on it. Values <= 0 are ignored.
func WithAckWait(d time.Duration) RunnerOption {
	return func(o *runnerOptions) {
		if d > 0 {
			o.ackWait = d
		}
	}
}

// WithAutoHeartbeat controls whether the Runner sends in-progress acks every
// AckWait/3 while a handler runs (default true), so that a live process never
// has its tasks redelivered however long they run. Turn it off for
// activities that declare a heartbeat timeout and call RecordHeartbeat
// themselves: then a handler that is alive but stuck stops extending its
// task, and JetStream hands the task to another worker after AckWait.
func WithAutoHeartbeat(on bool) RunnerOption {
	return func(o *runnerOptions) { o.autoHeartbeat = on }
}

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) RunnerOption {
	return func(o *runnerOptions) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithShutdownGrace sets how long Run waits for in-flight tasks after its
// context is canceled. Tasks still running then have their contexts canceled
// and are handed back to JetStream (NAK) for another worker. Values < 0 are
// ignored; 0 hands tasks back at once.
func WithShutdownGrace(d time.Duration) RunnerOption {
	return func(o *runnerOptions) {
		if d >= 0 {
			o.grace = d
		}
	}
}
