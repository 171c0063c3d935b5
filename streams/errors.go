package streams

import "errors"

// Sentinel errors. Functions wrap them with detail, so match with errors.Is.
var (
	// ErrInvalidName reports a namespace or queue name outside
	// [A-Za-z0-9_-]{1,64}.
	ErrInvalidName = errors.New("streams: invalid name")

	// ErrInvalidToken reports a subject token that is not the canonical
	// output of EscapeToken.
	ErrInvalidToken = errors.New("streams: invalid escaped token")

	// ErrInvalidSubject reports a subject that does not have the shape a
	// parser expected, for example an inbox subject of another namespace.
	ErrInvalidSubject = errors.New("streams: invalid subject")

	// ErrMsgNotFound reports that a direct get found no message.
	ErrMsgNotFound = errors.New("streams: message not found")

	// ErrDirectGetUnavailable reports that nobody answered a direct get
	// request: the stream does not exist, has AllowDirect off, or JetStream
	// is not reachable (for example while the server restarts).
	ErrDirectGetUnavailable = errors.New("streams: direct get unavailable")

	// ErrIncompatibleStream reports that a stream already exists with a
	// configuration that cannot be updated into the one cairn needs, for
	// example another retention policy or storage type. An operator has to
	// fix (or delete) it; cairn never deletes data on its own.
	ErrIncompatibleStream = errors.New("streams: incompatible existing stream")

	// ErrNotPermitted reports that the NATS server refused a request for
	// lack of permission: the connection's role may not do it (for
	// example provisioning a namespace whose layout is missing or out of
	// date, which only the admin role may).
	ErrNotPermitted = errors.New("streams: not permitted by the NATS server")
)
