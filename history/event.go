package history

import (
	"encoding/json"
	"fmt"
	"time"
)

// EventType names an event; it is the "type" field of the JSON form.
type EventType string

// The event types. Command events are produced by workflow code.
const (
	TypeWorkflowStarted         EventType = "WorkflowStarted"
	TypeWorkflowCompleted       EventType = "WorkflowCompleted"
	TypeWorkflowFailed          EventType = "WorkflowFailed"
	TypeWorkflowCanceled        EventType = "WorkflowCanceled"
	TypeWorkflowTerminated      EventType = "WorkflowTerminated"
	TypeWorkflowTimedOut        EventType = "WorkflowTimedOut"
	TypeWorkflowContinuedAsNew  EventType = "WorkflowContinuedAsNew"
	TypeWorkflowCancelRequested EventType = "WorkflowCancelRequested"

	TypeActivityScheduled       EventType = "ActivityScheduled"
	TypeActivityCompleted       EventType = "ActivityCompleted"
	TypeActivityFailed          EventType = "ActivityFailed"
	TypeActivityRetrying        EventType = "ActivityRetrying"
	TypeActivityCancelRequested EventType = "ActivityCancelRequested"

	TypeTimerStarted  EventType = "TimerStarted"
	TypeTimerFired    EventType = "TimerFired"
	TypeTimerCanceled EventType = "TimerCanceled"

	TypeStepCompleted  EventType = "StepCompleted"
	TypeSignalReceived EventType = "SignalReceived"
	TypeStatusSet      EventType = "StatusSet"

	TypeChildWorkflowScheduled EventType = "ChildWorkflowScheduled"
	TypeChildWorkflowCompleted EventType = "ChildWorkflowCompleted"
	TypeChildWorkflowFailed    EventType = "ChildWorkflowFailed"
	TypeChildCancelRequested   EventType = "ChildCancelRequested"

	TypeCallbackStarted   EventType = "CallbackStarted"
	TypeCallbackCompleted EventType = "CallbackCompleted"
	TypeCallbackFailed    EventType = "CallbackFailed"
	TypeCallbackHeartbeat EventType = "CallbackHeartbeat"
	TypeCallbackTimedOut  EventType = "CallbackTimedOut"
	TypeVersionMarker     EventType = "VersionMarker"

	TypeWorkflowPaused           EventType = "WorkflowPaused"
	TypeWorkflowResumed          EventType = "WorkflowResumed"
	TypeSearchAttributesUpserted EventType = "SearchAttributesUpserted"
)

// Event is one entry of a run's history.
type Event struct {
	// Seq is the event's 1-based position in its run's history.
	Seq int64 `json:"seq"`
	// Time is when the event was recorded (the workflow task's start time
	// for command events, so replay sees the same clock).
	Time time.Time `json:"time"`
	Type EventType `json:"type"`
	// Attributes is a pointer to the type's attribute struct, e.g.
	// *ActivityScheduled for TypeActivityScheduled.
	Attributes any `json:"attributes"`
}

// IsCommand reports whether the event records a decision of workflow code,
// which replay must reproduce in the same order.
func (e *Event) IsCommand() bool {
	switch e.Type {
	case TypeActivityScheduled, TypeActivityCancelRequested,
		TypeTimerStarted, TypeTimerCanceled,
		TypeStepCompleted, TypeVersionMarker, TypeStatusSet, TypeSearchAttributesUpserted,
		TypeChildWorkflowScheduled, TypeChildCancelRequested, TypeCallbackStarted, TypeCallbackTimedOut,
		TypeWorkflowCompleted, TypeWorkflowFailed, TypeWorkflowCanceled, TypeWorkflowContinuedAsNew:
		return true
	}
	return false
}

// IsClose reports whether the event ends the run.
func (e *Event) IsClose() bool {
	switch e.Type {
	case TypeWorkflowCompleted, TypeWorkflowFailed, TypeWorkflowCanceled, TypeWorkflowTerminated, TypeWorkflowTimedOut,
		TypeWorkflowContinuedAsNew:
		return true
	}
	return false
}

func newAttributes(t EventType) (any, error) {
	switch t {
	case TypeWorkflowStarted:
		return new(WorkflowStarted), nil
	case TypeWorkflowCompleted:
		return new(WorkflowCompleted), nil
	case TypeWorkflowFailed:
		return new(WorkflowFailed), nil
	case TypeWorkflowCanceled:
		return new(WorkflowCanceled), nil
	case TypeWorkflowTerminated:
		return new(WorkflowTerminated), nil
	case TypeWorkflowTimedOut:
		return new(WorkflowTimedOut), nil
	case TypeWorkflowContinuedAsNew:
		return new(WorkflowContinuedAsNew), nil
	case TypeWorkflowCancelRequested:
		return new(WorkflowCancelRequested), nil
	case TypeActivityScheduled:
		return new(ActivityScheduled), nil
	case TypeActivityCompleted:
		return new(ActivityCompleted), nil
	case TypeActivityFailed:
		return new(ActivityFailed), nil
	case TypeActivityRetrying:
		return new(ActivityRetrying), nil
	case TypeActivityCancelRequested:
		return new(ActivityCancelRequested), nil
	case TypeTimerStarted:
		return new(TimerStarted), nil
	case TypeTimerFired:
		return new(TimerFired), nil
	case TypeTimerCanceled:
		return new(TimerCanceled), nil
	case TypeStepCompleted:
		return new(StepCompleted), nil
	case TypeSignalReceived:
		return new(SignalReceived), nil
	case TypeStatusSet:
		return new(StatusSet), nil
	case TypeChildWorkflowScheduled:
		return new(ChildWorkflowScheduled), nil
	case TypeChildWorkflowCompleted:
		return new(ChildWorkflowCompleted), nil
	case TypeChildWorkflowFailed:
		return new(ChildWorkflowFailed), nil
	case TypeChildCancelRequested:
		return new(ChildCancelRequested), nil
	case TypeCallbackStarted:
		return new(CallbackStarted), nil
	case TypeCallbackCompleted:
		return new(CallbackCompleted), nil
	case TypeCallbackFailed:
		return new(CallbackFailed), nil
	case TypeCallbackHeartbeat:
		return new(CallbackHeartbeat), nil
	case TypeCallbackTimedOut:
		return new(CallbackTimedOut), nil
	case TypeVersionMarker:
		return new(VersionMarker), nil
	case TypeWorkflowPaused:
		return new(WorkflowPaused), nil
	case TypeWorkflowResumed:
		return new(WorkflowResumed), nil
	case TypeSearchAttributesUpserted:
		return new(SearchAttributesUpserted), nil
	}
	return nil, fmt.Errorf("history: unknown event type %q", t)
}

// UnmarshalJSON decodes the attributes into the struct of the event's type.
func (e *Event) UnmarshalJSON(b []byte) error {
	var raw struct {
		Seq        int64           `json:"seq"`
		Time       time.Time       `json:"time"`
		Type       EventType       `json:"type"`
		Attributes json.RawMessage `json:"attributes"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	attrs, err := newAttributes(raw.Type)
	if err != nil {
		return err
	}
	if len(raw.Attributes) > 0 && string(raw.Attributes) != "null" {
		if err := json.Unmarshal(raw.Attributes, attrs); err != nil {
			return fmt.Errorf("history: event %d (%s): %w", raw.Seq, raw.Type, err)
		}
	}
	e.Seq, e.Time, e.Type, e.Attributes = raw.Seq, raw.Time, raw.Type, attrs
	return nil
}

// Batch is the unit of commit: the events of one workflow task, stored as one
// message on the instance's history subject.
type Batch []*Event

// Encode returns the stored form of the batch.
func (b Batch) Encode() ([]byte, error) { return json.Marshal(b) }

// DecodeBatch parses a stored batch.
func DecodeBatch(data []byte) (Batch, error) {
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("history: decode batch: %w", err)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	return b, nil
}

// check rejects what JSON accepts but no writer produces: a missing batch
// (null) or a null event, which a reader would dereference.
func (b Batch) check() error {
	if b == nil {
		return fmt.Errorf("history: decode batch: null or empty batch")
	}
	for i, ev := range b {
		if ev == nil {
			return fmt.Errorf("history: decode batch: event %d is null", i)
		}
	}
	return nil
}
