package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/act"
	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/internal/store"
	"github.com/cairnhq/cairn/sdk/failure"
)

// ExecuteWorkflow starts the workflow under test, wf (a registered type
// name, or a workflow function, registered on the fly if need be), with
// input, and runs it with automatic time skipping (see Run) until it
// closes or waits for something only the test can give. Read the outcome
// with Result or Err.
func (e *WorkflowEnv) ExecuteWorkflow(wf any, input any) {
	e.t.Helper()
	e.Start(wf, input)
	e.Run()
}

// Start starts the workflow under test and runs it until it blocks,
// without moving the clock: what is due now (its first task, activities it
// schedules at once) happens; timers wait for Skip or Run.
func (e *WorkflowEnv) Start(wf any, input any) {
	e.t.Helper()
	if e.root != nil {
		e.t.Fatalf("testenv: the workflow under test already started (one per WorkflowEnv)")
	}
	name, ok := wf.(string)
	if !ok {
		name = act.Name(wf)
		if e.workflows[name] == nil {
			e.RegisterWorkflow(wf)
		}
	}
	raw, err := e.payload(input)
	if err != nil {
		e.t.Fatalf("%v", err)
	}
	r, err := e.startRun(&history.WorkflowStarted{WorkflowType: name, WorkflowID: e.cfg.workflowID, Run: "run-1",
		TaskQueue: e.cfg.queue, Input: raw, RandomSeed: e.cfg.seed, ExecutionTimeout: history.Duration(e.cfg.timeout)}, e.startEvents)
	if err != nil {
		e.t.Fatalf("%v", err)
	}
	e.startEvents = nil
	e.root = r
	e.drive(e.now, false)
}

// Run runs the workflow with automatic time skipping: whenever nothing is
// left to do at the current virtual time, the clock jumps to the next due
// timer, activity retry, timeout or delayed callback (At, SignalAt). It
// returns when the workflow under test closed, or nothing is due any more
// (the workflow waits for a signal, a callback or a cancel: give it and
// call Run again).
func (e *WorkflowEnv) Run() {
	e.drive(time.Time{}, true)
}

// Skip moves the clock forward by d, firing in order everything due on the
// way and running the workflow after each; the clock ends exactly d later.
func (e *WorkflowEnv) Skip(d time.Duration) {
	e.drive(e.now.Add(d), false)
}

// At runs fn when the virtual clock reaches d after now (Temporal's
// RegisterDelayedCallback). fn may signal, cancel or complete callbacks;
// what it does reaches the workflow in the task that follows.
func (e *WorkflowEnv) At(d time.Duration, fn func()) {
	e.timeline.add(e.now.Add(d), nil, "", fn)
}

// Signal sends the signal name with payload (encoded with the
// env's converter; a json.RawMessage passes as is) on the workflow under
// test, and runs it until it blocks, without moving the clock. Raised
// before the workflow starts, it goes into the start batch, as with
// signal-with-start.
func (e *WorkflowEnv) Signal(name string, payload any) {
	e.t.Helper()
	raw, err := e.payload(payload)
	if err != nil {
		e.t.Fatalf("%v", err)
	}
	e.signalSeq++
	s := &history.SignalReceived{Name: name, Payload: raw, ID: fmt.Sprintf("test-signal-%d", e.signalSeq)}
	r := e.current()
	if r == nil {
		e.startEvents = append(e.startEvents, s)
		return
	}
	e.deliver(r, &history.Event{Type: history.TypeSignalReceived, Attributes: s})
	e.drive(e.now, false)
}

// SignalAt sends the signal at d after now in virtual time (see At).
func (e *WorkflowEnv) SignalAt(d time.Duration, name string, payload any) {
	e.At(d, func() { e.Signal(name, payload) })
}

// CancelWorkflow asks the workflow under test to cancel (its context is
// canceled; it decides how to finish) and runs it until it blocks.
func (e *WorkflowEnv) CancelWorkflow(reason string) {
	if r := e.current(); r != nil {
		e.deliver(r, &history.Event{Type: history.TypeWorkflowCancelRequested, Attributes: &history.WorkflowCancelRequested{Reason: reason}})
		e.drive(e.now, false)
	}
}

// Terminate closes the workflow under test without running its code.
func (e *WorkflowEnv) Terminate(reason string) {
	if r := e.current(); r != nil {
		e.terminate(r, reason)
		e.drive(e.now, false)
	}
}

// CallbackToken returns the token of the open callback wait named name
// (workflow.WaitForCallback) of the workflow under test or one of its
// children, as the submit function received it.
func (e *WorkflowEnv) CallbackToken(name string) (string, bool) {
	for _, r := range e.runs {
		if r.closed != nil {
			continue
		}
		for _, cb := range r.openCallbacks() {
			if cb.Name == name {
				return history.CallbackToken{WorkflowID: r.id, Run: r.runID, ID: cb.ID, Nonce: cb.Nonce}.Encode(), true
			}
		}
	}
	return "", false
}

// CompleteCallback completes the callback wait of token, as
// client.CompleteCallback does: with result (encoded with the env's
// converter) when err is nil, else with err as its failure. It runs the
// workflow until it blocks. A token that is unknown, or whose wait is no
// longer open, is rejected with an error matching client.ErrCallbackNotPending.
func (e *WorkflowEnv) CompleteCallback(token string, result any, err error) error {
	r, tok, perr := e.callbackRun(token)
	if perr != nil {
		return perr
	}
	if err != nil {
		e.deliver(r, &history.Event{Type: history.TypeCallbackFailed, Attributes: &history.CallbackFailed{
			ID: tok.ID, Failure: history.FailureOf(err), Nonce: tok.Nonce}})
	} else {
		raw, perr := e.payload(result)
		if perr != nil {
			return perr
		}
		e.deliver(r, &history.Event{Type: history.TypeCallbackCompleted, Attributes: &history.CallbackCompleted{
			ID: tok.ID, Result: raw, Nonce: tok.Nonce}})
	}
	e.drive(e.now, false)
	return nil
}

// HeartbeatCallback records that the party holding token is still working,
// restarting the wait's heartbeat timeout.
func (e *WorkflowEnv) HeartbeatCallback(token string) error {
	r, tok, err := e.callbackRun(token)
	if err != nil {
		return err
	}
	e.deliver(r, &history.Event{Type: history.TypeCallbackHeartbeat, Attributes: &history.CallbackHeartbeat{ID: tok.ID, Nonce: tok.Nonce}})
	e.drive(e.now, false)
	return nil
}

func (e *WorkflowEnv) callbackRun(token string) (*run, *history.CallbackToken, error) {
	tok, err := history.ParseCallbackToken(token)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range e.runs {
		if r.id == tok.WorkflowID && r.runID == tok.Run && r.closed == nil {
			if cb := r.callbacks[tok.ID]; cb != nil && cb.Nonce == tok.Nonce {
				return r, tok, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("%w: callback %d of workflow %q run %s", store.ErrCallbackNotPending, tok.ID, tok.WorkflowID, tok.Run)
}

// Query runs the query handler name of the workflow under test with args
// and decodes its answer into out (which may be nil).
func (e *WorkflowEnv) Query(name string, args any, out any) error {
	r := e.current()
	if r == nil {
		return ErrNotStarted
	}
	raw, err := e.payload(args)
	if err != nil {
		return err
	}
	res, err := r.inst.Query(name, raw)
	if err != nil || out == nil || len(res) == 0 {
		return err
	}
	return e.cfg.dc.FromPayload(res, out)
}

// Closed reports whether the workflow under test has closed (completed,
// failed, canceled, terminated or timed out).
func (e *WorkflowEnv) Closed() bool {
	r := e.current()
	return r != nil && r.closed != nil
}

// Err returns the outcome of the workflow under test: nil if it completed;
// a *failure.WorkflowError wrapping its cause (match with errors.As, e.g.
// *failure.ActivityError, *failure.TimeoutError, *failure.CanceledError)
// if it failed, was canceled, terminated or timed out, exactly as
// client.Run.Get reports it; ErrStillRunning or ErrNotStarted otherwise.
// A fatal error of the env (workflow code that panicked, ErrTooManyTasks)
// comes first.
func (e *WorkflowEnv) Err() error { return e.Result(nil) }

// Result decodes the result of the completed workflow under test into
// out (which may be nil) or returns what Err returns.
func (e *WorkflowEnv) Result(out any) error {
	if e.err != nil {
		return e.err
	}
	r := e.current()
	if r == nil {
		return ErrNotStarted
	}
	if r.closed == nil {
		return fmt.Errorf("%w at %s (virtual): nothing left to fire, it waits for %s", ErrStillRunning,
			e.now.Format(time.RFC3339), describeOpen(r))
	}
	werr := func(cause error) error {
		return &failure.WorkflowError{WorkflowID: r.id, Run: r.runID, WorkflowType: r.typ, Cause: cause}
	}
	if a, ok := r.closed.Attributes.(*history.WorkflowCompleted); ok {
		if out == nil || len(a.Result) == 0 {
			return nil
		}
		return e.cfg.dc.FromPayload(a.Result, out)
	}
	if err := failconv.OfClose(r.closed); err != nil {
		return werr(err)
	}
	return errors.New("testenv: run closed with unexpected event " + string(r.closed.Type))
}

// History returns the batches the latest run of the workflow under test
// committed, one per workflow task, as a server would have stored them.
func (e *WorkflowEnv) History() []history.Batch {
	if r := e.current(); r != nil {
		return r.batches
	}
	return nil
}

// HistoryJSON returns History exactly as `cairn workflow history --json`
// prints a stored run (history.ExportEvents, indented), which
// ReplayHistory reads.
func (e *WorkflowEnv) HistoryJSON() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(history.ExportEvents(e.History())); err != nil {
		e.t.Fatalf("testenv: export history: %v", err)
	}
	return buf.Bytes()
}
