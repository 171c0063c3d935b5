package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestFailureError(t *testing.T) {
	tests := []struct {
		name string
		f    *Failure
		want string
	}{
		{"nil", nil, "<nil failure>"},
		{"message only", &Failure{Message: "boom"}, "boom"},
		{"typed", &Failure{Type: "E", Message: "boom"}, "E: boom"},
		{"empty message", &Failure{Type: "E"}, "E: "},
		{"cause chain", &Failure{Type: "A", Message: "a", Cause: &Failure{Type: "B", Message: "b", Cause: &Failure{Message: "c"}}}, "A: a: B: b: c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := (&Failure{Type: "E", Message: `say "hi"`}).String(); got != `E("say \"hi\"")` {
		t.Fatalf("String() = %s", got)
	}
}

type failerErr struct{ f *Failure }

func (e failerErr) Error() string     { return "failer" }
func (e failerErr) Failure() *Failure { return e.f }

func TestFailureOf(t *testing.T) {
	own := &Failure{Type: "Own", Message: "own form"}
	direct := &Failure{Type: "Direct", Message: "d"}
	tests := []struct {
		name string
		err  error
		want *Failure
	}{
		{"nil", nil, nil},
		{"plain error", errors.New("boom"), &Failure{Type: FailureGeneric, Message: "boom"}},
		{"wrapped plain error", fmt.Errorf("ctx: %w", errors.New("boom")), &Failure{Type: FailureGeneric, Message: "ctx: boom"}},
		{"Failer", failerErr{own}, own},
		{"wrapped Failer", fmt.Errorf("ctx: %w", failerErr{own}), own},
		{"*Failure", direct, direct},
		{"wrapped *Failure", fmt.Errorf("ctx: %w", direct), direct},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FailureOf(tt.err); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("FailureOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestFailureTypes pins the failure types the engine writes: retry
// policies and callers match on them by string.
func TestFailureTypes(t *testing.T) {
	for got, want := range map[string]string{
		FailureTimeout:     "cairn.Timeout",
		FailurePanic:       "cairn.Panic",
		FailureCanceled:    "cairn.Canceled",
		FailureTerminated:  "cairn.Terminated",
		FailureGeneric:     "cairn.Error",
		FailureUnknownType: "cairn.UnknownType",
		FailureChildStart:  "cairn.ChildStartFailed",
	} {
		if got != want {
			t.Errorf("failure type %q, want %q", got, want)
		}
	}
}

func TestFailureJSONOmitsEmpty(t *testing.T) {
	data, err := json.Marshal(&Failure{})
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"type":"","message":""}` {
		t.Fatalf("got %s", data)
	}
}

func TestCloseFailure(t *testing.T) {
	wf := &Failure{Type: "E", Message: "workflow error"}
	tests := []struct {
		name  string
		attrs any
		want  *Failure
	}{
		{"completed", &WorkflowCompleted{}, nil},
		{"continued as new", &WorkflowContinuedAsNew{NextRun: "r2"}, nil},
		{"failed", &WorkflowFailed{Failure: wf}, wf},
		{"failed without failure", &WorkflowFailed{}, nil},
		{"canceled with failure", &WorkflowCanceled{Failure: wf}, wf},
		{"canceled", &WorkflowCanceled{}, &Failure{Type: FailureCanceled, Message: "canceled"}},
		{"terminated", &WorkflowTerminated{Reason: "operator"}, &Failure{Type: FailureTerminated, Message: "operator"}},
		{"timed out", &WorkflowTimedOut{Timeout: Duration(90 * time.Minute)}, &Failure{Type: FailureTimeout,
			Message: "workflow execution timeout of 1h30m0s", NonRetryable: true, Details: json.RawMessage(`{"kind":"workflow-execution"}`)}},
		{"not a close event", &TimerFired{ID: 1}, nil},
		{"no attributes", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CloseFailure(&Event{Attributes: tt.attrs})
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("CloseFailure = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNilFailureStringsLikeItsError(t *testing.T) {
	var f *Failure
	if f.String() != f.Error() {
		t.Errorf("String() = %q, Error() = %q", f.String(), f.Error())
	}
}
