package history

// WorkflowPaused records an operator's pause: from here no workflow code
// runs, and the events that arrive are recorded but applied to the code
// only once the run resumes, in the order they came.
type WorkflowPaused struct {
	Reason   string `json:"reason,omitempty"`
	Identity string `json:"identity,omitempty"`
}

// WorkflowResumed ends a pause: the events recorded meanwhile are applied
// and the code runs on.
type WorkflowResumed struct {
	Reason   string `json:"reason,omitempty"`
	Identity string `json:"identity,omitempty"`
}

// ResetInfo, in the WorkflowStarted of a run made by reset or redrive,
// names the run it was cut from. The new run's history is the old one's
// first EventSeq events (with this start event), so everything up to the
// cut replays and the rest runs again.
type ResetInfo struct {
	Run      string `json:"run"`
	EventSeq int64  `json:"eventSeq"`
	// Kind is "reset" or "redrive".
	Kind   string `json:"kind"`
	Reason string `json:"reason,omitempty"`
}
