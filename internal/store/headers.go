package store

import (
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/cairnhq/cairn/activities"
)

// Headers of history and inbox messages (the activity ones are defined by
// the activities package, the public wire protocol).
const (
	HeaderKind = "Cairn-Kind"
	// HeaderTimerToken is the token of the timer a fire or timeout comes
	// from: set on the schedule by the engine, copied by the server onto
	// what the schedule fires (orchestrator/tokens.go).
	HeaderTimerToken    = "Cairn-Timer-Token"
	HeaderRun           = "Cairn-Run"
	HeaderRunStart      = "Cairn-Run-Start"
	HeaderStatus        = "Cairn-Status"
	HeaderLastEvent     = "Cairn-Last-Event"
	HeaderType          = "Cairn-Workflow-Type"
	HeaderQueue         = "Cairn-Task-Queue"
	HeaderWorkflowID    = "Cairn-Workflow-Id"
	HeaderExpectedSeq   = "Cairn-Expected-Seq"
	HeaderTimerID       = "Cairn-Timer-Id"
	HeaderActivityID    = "Cairn-Activity-Id"
	HeaderReason        = "Cairn-Reason"
	HeaderTimeout       = "Cairn-Timeout"
	HeaderSignal        = "Cairn-Signal"
	HeaderSignalID      = "Cairn-Signal-Id"
	HeaderChildID       = "Cairn-Child-Id"
	HeaderChildRun      = "Cairn-Child-Run"
	HeaderCallbackID    = "Cairn-Callback-Id"
	HeaderCallbackNonce = "Cairn-Callback-Nonce"
	HeaderIdentity      = "Cairn-Identity"
	HeaderTaskTime      = "Cairn-Task-Time-Us"
	HeaderInboxSeq      = "Cairn-Inbox-Seq"
	HeaderMsgID         = nats.MsgIdHdr
	HeaderExpLastSubj   = nats.ExpectedLastSubjSeqHdr
)

// Inbox message kinds.
const (
	KindStart           = "start"
	KindActivityResult  = "activity.result"
	KindActivityTimeout = "activity.timeout"
	// KindAttemptTimeout is an attempt timer's fire (activities package):
	// the attempt's start-to-close or heartbeat timeout passed.
	KindAttemptTimeout  = activities.KindAttemptTimeout
	KindTimerFired      = "timer.fired"
	KindCancel          = "cancel"
	KindTerminated      = "terminated"
	KindWorkflowTimeout = "workflow.timeout"
	KindSignal          = "signal"
	KindChildClosed     = "child.closed"
	KindCallback        = "callback"
	KindPause           = "pause"
	KindResume          = "resume"
	KindReset           = "reset"
	// KindTerminateRequest and KindResetRequest ask the engine to
	// terminate or reset a run on a client's behalf: a client without
	// history writes (WithoutHistoryWrites) cannot append them itself.
	KindTerminateRequest = "terminate.request"
	KindResetRequest     = "reset.request"
)

func u64(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

func i64(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}
