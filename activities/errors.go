package activities

import "errors"

// Sentinel errors. Parse functions wrap them with the offending header, so
// match with errors.Is.
var (
	// ErrMalformedTask reports a task message with a missing or invalid
	// header or body. Such a message can never be processed; the Runner
	// terminates it.
	ErrMalformedTask = errors.New("activities: malformed task message")

	// ErrMalformedResult reports a result message with a missing or invalid
	// header or body.
	ErrMalformedResult = errors.New("activities: malformed result message")

	// ErrUnsupportedProtocol reports a message of a protocol version this
	// package does not speak. It is not malformed: a newer worker may serve
	// it, so the Runner leaves it for one instead of terminating it.
	ErrUnsupportedProtocol = errors.New("activities: unsupported protocol version")
)
