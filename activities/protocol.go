package activities

// ProtocolVersion is the value of HeaderProtocol this package produces and
// accepts. Additive, backward-compatible changes (new optional headers) keep
// the version; anything an older worker would misread bumps it.
const ProtocolVersion = "1"

// Header names of the wire protocol, version 1. NATS header names are case
// sensitive; these are the exact spellings.
const (
	HeaderProtocol         = "Cairn-Protocol"
	HeaderNamespace        = "Cairn-Namespace"
	HeaderWorkflowID       = "Cairn-Workflow-Id"
	HeaderRun              = "Cairn-Run"
	HeaderWorkflowType     = "Cairn-Workflow-Type"
	HeaderActivityID       = "Cairn-Activity-Id"
	HeaderActivityType     = "Cairn-Activity-Type"
	HeaderAttempt          = "Cairn-Attempt"
	HeaderScheduled        = "Cairn-Scheduled"
	HeaderReply            = "Cairn-Reply"
	HeaderStartToClose     = "Cairn-Start-To-Close"
	HeaderScheduleToStart  = "Cairn-Schedule-To-Start"
	HeaderHeartbeatTimeout = "Cairn-Heartbeat-Timeout"
	HeaderDeadline         = "Cairn-Deadline"
	// HeaderAttemptTimer (task, optional) is the subject of the attempt's
	// engine timer (see NewAttemptTimerMsg); the engine sets it when the
	// activity has a start-to-close or heartbeat timeout.
	HeaderAttemptTimer = "Cairn-Attempt-Timer"
	// HeaderAttemptToken (task; result and attempt timeout) is the
	// attempt's token: the engine signs every attempt it dispatches, and
	// takes a result or an attempt timeout only with the token of the
	// attempt it names. A worker copies it from the task to what it
	// publishes for the attempt, unchanged.
	HeaderAttemptToken = "Cairn-Attempt-Token"
	// HeaderTimeoutKind (attempt timeout) is failure.TimeoutHeartbeat or
	// failure.TimeoutStartToClose.
	HeaderTimeoutKind = "Cairn-Timeout-Kind"
	HeaderKind        = "Cairn-Kind"
	HeaderStatus      = "Cairn-Status"
	HeaderDeliveries  = "Cairn-Deliveries"
	// HeaderDuration (optional, a Go duration such as "1.5s") is how
	// long the handler ran; it feeds cost accounting.
	HeaderDuration    = "Cairn-Duration"
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"

	// headerMsgID is JetStream's de-duplication header.
	headerMsgID = "Nats-Msg-Id"
	// headerMarkerReason is set by the server on subject delete markers,
	// which are not tasks and must be skipped.
	headerMarkerReason = "Nats-Marker-Reason"
	// headerRollup with rollupSubject replaces every message of the subject.
	headerRollup  = "Nats-Rollup"
	rollupSubject = "sub"
)

// KindActivityResult is the HeaderKind of a result message. The engine's
// inbox carries several kinds of messages; this one identifies an activity
// result.
const KindActivityResult = "activity.result"

// Values of HeaderStatus on a result message.
const (
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)
