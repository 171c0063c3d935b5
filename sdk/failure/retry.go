package failure

import (
	"slices"

	"github.com/cairnhq/cairn/history"
)

// IsRetryable reports whether the engine may schedule another attempt after
// failure f, given the retry policy's list of non-retryable failure types.
// Only the top-level failure is considered, as in the retry policy.
//
// Not retryable: a nil failure (there is nothing to retry), a failure marked
// NonRetryable, a failure whose Type is listed, cancellations and
// terminations, and timeouts of kind schedule-to-start or schedule-to-close
// (another attempt would face the same expired wait or deadline). Panics and
// start-to-close or heartbeat timeouts are retryable unless listed.
func IsRetryable(f *history.Failure, nonRetryableTypes []string) bool {
	if f == nil || f.NonRetryable || slices.Contains(nonRetryableTypes, f.Type) {
		return false
	}
	switch f.Type {
	case history.FailureCanceled, history.FailureTerminated:
		return false
	case history.FailureTimeout:
		return timeoutRetryable(timeoutKind(f))
	}
	return true
}
