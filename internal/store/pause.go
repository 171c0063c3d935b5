package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/nats-io/nats.go"
)

// Pause asks the running run of an instance to pause: the worker records
// WorkflowPaused and from then on runs none of the workflow's code, while
// results, timer fires and signals keep being recorded in order. Pausing
// a paused run changes nothing. Returns ErrNotFound or ErrNotRunning.
func (s *JetStream) Pause(ctx context.Context, workflowID, run, reason, identity string) error {
	return s.pauseOrResume(ctx, KindPause, workflowID, run, reason, identity)
}

// Resume ends a pause: the worker records WorkflowResumed and the code runs
// on over everything that arrived meanwhile. Resuming a run that is not
// paused changes nothing.
func (s *JetStream) Resume(ctx context.Context, workflowID, run, reason, identity string) error {
	return s.pauseOrResume(ctx, KindResume, workflowID, run, reason, identity)
}

func (s *JetStream) pauseOrResume(ctx context.Context, kind, workflowID, run, reason, identity string) error {
	head, err := s.runningHead(ctx, workflowID, run)
	if err != nil {
		return err
	}
	// Each request is its own message (a pause, a resume and a pause again
	// must all arrive); the id only de-duplicates a retried publish.
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	m := nats.NewMsg(s.names.ClientInboxSubject(head.TaskQueue, workflowID))
	m.Header.Set(HeaderKind, kind)
	m.Header.Set(HeaderRun, head.Run)
	m.Header.Set(HeaderReason, reason)
	m.Header.Set(HeaderIdentity, identity)
	m.Header.Set(HeaderMsgID, kind+"/"+s.names.InstanceKey(workflowID)+"/"+head.Run+"/"+hex.EncodeToString(b))
	InjectTrace(ctx, m.Header)
	_, err = s.publish(ctx, m)
	return err
}
