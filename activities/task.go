package activities

import (
	"fmt"
	"strconv"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/nats-io/nats.go"
)

// Task is one attempt of one activity, as carried by a task message: the
// attempt's identity (history.ActivityAttempt; Queue and Deliveries are
// filled in by the Runner from the subject and the message metadata,
// ParseTask leaves them empty) and what the wire adds to it.
type Task struct {
	history.ActivityAttempt
	// Reply is the JetStream subject the result must be published to.
	Reply string
	// Optional timeouts; zero means none.
	StartToClose    time.Duration
	ScheduleToStart time.Duration
	// Token is the attempt's token (HeaderAttemptToken), to be presented
	// with its result and attempt timeouts.
	Token string
	// AttemptTimer is the subject of the attempt's engine timer (empty:
	// the engine enforces no attempt timeout; see NewAttemptTimerMsg).
	AttemptTimer string
	// Input is the JSON payload of the activity's arguments.
	Input []byte
	// W3C trace context of the scheduling workflow task, if any.
	TraceParent string
	TraceState  string
}

// MsgID is the task message's JetStream de-duplication id:
// <ns>/<workflow id>/<run>/<activity id>/<attempt>. Re-publishing the same
// attempt (for example after an engine crash) is then a no-op within the
// stream's duplicate window.
func (t *Task) MsgID() string {
	return t.Namespace + "/" + t.WorkflowID + "/" + t.Run + "/" + t.ActivityID + "/" + strconv.Itoa(t.Attempt)
}

// NewTaskMsg builds the task message of t, to be published with JetStream
// on subject (normally streams.Names.TaskSubject(queue, activityType)). It
// sets every protocol header and Nats-Msg-Id. Zero optional fields are
// omitted. It does not validate t; ParseTask on the receiving side does.
//
// Header values cannot carry CR or LF and lose leading and trailing
// whitespace (ADR-4), so ids and type names must not rely on them.
func NewTaskMsg(subject string, t *Task) *nats.Msg {
	h := nats.Header{}
	h.Set(HeaderProtocol, ProtocolVersion)
	h.Set(HeaderNamespace, t.Namespace)
	h.Set(HeaderWorkflowID, t.WorkflowID)
	h.Set(HeaderRun, t.Run)
	h.Set(HeaderWorkflowType, t.WorkflowType)
	h.Set(HeaderActivityID, t.ActivityID)
	h.Set(HeaderActivityType, t.ActivityType)
	h.Set(HeaderAttempt, strconv.Itoa(t.Attempt))
	h.Set(HeaderScheduled, t.Scheduled.UTC().Format(time.RFC3339Nano))
	h.Set(HeaderReply, t.Reply)
	setDuration(h, HeaderStartToClose, t.StartToClose)
	setDuration(h, HeaderScheduleToStart, t.ScheduleToStart)
	setDuration(h, HeaderHeartbeatTimeout, t.HeartbeatTimeout)
	if !t.Deadline.IsZero() {
		h.Set(HeaderDeadline, t.Deadline.UTC().Format(time.RFC3339Nano))
	}
	setOptional(h, HeaderAttemptTimer, t.AttemptTimer)
	setOptional(h, HeaderAttemptToken, t.Token)
	setOptional(h, HeaderTraceParent, t.TraceParent)
	setOptional(h, HeaderTraceState, t.TraceState)
	h.Set(headerMsgID, t.MsgID())
	return &nats.Msg{Subject: subject, Header: h, Data: t.Input}
}

// ParseTask decodes a task message. Missing required headers, unparsable
// values and a body that is not JSON are reported as errors wrapping
// ErrMalformedTask; a Cairn-Protocol other than ProtocolVersion as
// ErrUnsupportedProtocol. Unknown headers are ignored, so later protocol
// additions do not break older workers. Queue and Deliveries are left for
// the caller, who knows the subject and the delivery metadata.
func ParseTask(h nats.Header, data []byte) (*Task, error) {
	p := headerParser{h: h, malformed: ErrMalformedTask}
	if err := p.protocol(); err != nil {
		return nil, err
	}
	t := &Task{
		ActivityAttempt: history.ActivityAttempt{
			Namespace:        p.required(HeaderNamespace),
			WorkflowID:       p.required(HeaderWorkflowID),
			Run:              p.required(HeaderRun),
			WorkflowType:     p.required(HeaderWorkflowType),
			ActivityID:       p.required(HeaderActivityID),
			ActivityType:     p.required(HeaderActivityType),
			Attempt:          p.positiveInt(HeaderAttempt),
			Scheduled:        p.time(HeaderScheduled, true),
			HeartbeatTimeout: p.duration(HeaderHeartbeatTimeout),
			Deadline:         p.time(HeaderDeadline, false),
		},
		Reply:           p.subject(HeaderReply),
		StartToClose:    p.duration(HeaderStartToClose),
		ScheduleToStart: p.duration(HeaderScheduleToStart),
		AttemptTimer:    p.optionalSubject(HeaderAttemptTimer),
		Token:           h.Get(HeaderAttemptToken),
		TraceParent:     h.Get(HeaderTraceParent),
		TraceState:      h.Get(HeaderTraceState),
		Input:           data,
	}
	if p.err != nil {
		return nil, p.err
	}
	if !validPayload(data) {
		return nil, fmt.Errorf("%w: body is not valid JSON", ErrMalformedTask)
	}
	return t, nil
}

func setDuration(h nats.Header, key string, d time.Duration) {
	if d > 0 {
		h.Set(key, d.String())
	}
}

func setOptional(h nats.Header, key, v string) {
	if v != "" {
		h.Set(key, v)
	}
}
