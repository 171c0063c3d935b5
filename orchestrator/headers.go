package orchestrator

import (
	"strconv"

	"github.com/nats-io/nats.go"
)

// Headers of history and inbox messages (the activity ones are defined by
// the activities package, the public wire protocol).
const (
	hdrKind          = "Cairn-Kind"
	hdrRun           = "Cairn-Run"
	hdrRunStart      = "Cairn-Run-Start"
	hdrStatus        = "Cairn-Status"
	hdrLastEvent     = "Cairn-Last-Event"
	hdrType          = "Cairn-Workflow-Type"
	hdrQueue         = "Cairn-Task-Queue"
	hdrWorkflowID    = "Cairn-Workflow-Id"
	hdrExpectedSeq   = "Cairn-Expected-Seq"
	hdrTimerID       = "Cairn-Timer-Id"
	hdrActivityID    = "Cairn-Activity-Id"
	hdrReason        = "Cairn-Reason"
	hdrTimeout       = "Cairn-Timeout"
	hdrSignal        = "Cairn-Signal"
	hdrSignalID      = "Cairn-Signal-Id"
	hdrChildID       = "Cairn-Child-Id"
	hdrChildRun      = "Cairn-Child-Run"
	hdrCallbackID    = "Cairn-Callback-Id"
	hdrCallbackNonce = "Cairn-Callback-Nonce"
	hdrIdentity      = "Cairn-Identity"
	hdrTaskTime      = "Cairn-Task-Time-Us"
	hdrMsgID         = nats.MsgIdHdr
	hdrExpLastSubj   = nats.ExpectedLastSubjSeqHdr
)

// HeaderStatus is the history message header that carries the run's status
// after the batch; subscribers to a history subject can read it without
// decoding the body.
const HeaderStatus = hdrStatus

// Inbox message kinds.
const (
	kindStart           = "start"
	kindActivityResult  = "activity.result"
	kindActivityTimeout = "activity.timeout"
	kindTimerFired      = "timer.fired"
	kindCancel          = "cancel"
	kindTerminated      = "terminated"
	kindWorkflowTimeout = "workflow.timeout"
	kindSignal          = "signal"
	kindChildClosed     = "child.closed"
	kindCallback        = "callback"
	kindPause           = "pause"
	kindResume          = "resume"
	kindReset           = "reset"
)

func u64(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

func i64(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}
