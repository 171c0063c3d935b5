package activities

import "time"

// WithUnsupportedPatience shortens how long a task of an unknown protocol
// version is offered before it is a dead letter: every delay, deliveries
// times.
func WithUnsupportedPatience(delay time.Duration, deliveries uint64) RunnerOption {
	return func(o *runnerOptions) { o.unsupportedDelay, o.unsupportedDeliveries = delay, deliveries }
}
