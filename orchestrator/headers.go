package orchestrator

import "github.com/cairnhq/cairn/internal/store"

// The wire format of history and inbox messages is the store's; these
// short names keep the worker's code readable.
const (
	hdrKind        = store.HeaderKind
	hdrRun         = store.HeaderRun
	hdrTimerID     = store.HeaderTimerID
	hdrCallbackID  = store.HeaderCallbackID
	hdrSignalID    = store.HeaderSignalID
	hdrMsgID       = store.HeaderMsgID
	kindStart      = store.KindStart
	kindTimerFired = store.KindTimerFired
	kindCallback   = store.KindCallback
	kindTerminated = store.KindTerminated
	kindReset      = store.KindReset
)
