package client

import (
	"context"
	"errors"
	"testing"

	"github.com/cairnhq/cairn/internal/store"
)

func TestReusePolicyMapsToStore(t *testing.T) {
	tests := []struct {
		p    WorkflowIDReusePolicy
		want store.ReusePolicy
	}{
		{WorkflowIDReusePolicyAllowDuplicate, store.AllowDuplicate},
		{WorkflowIDReusePolicyAllowDuplicateFailedOnly, store.AllowDuplicateFailedOnly},
		{WorkflowIDReusePolicyRejectDuplicate, store.RejectDuplicate},
	}
	for _, tt := range tests {
		got, err := tt.p.store()
		if err != nil || got != tt.want {
			t.Errorf("%v.store() = %v, %v; want %v", tt.p, got, err, tt.want)
		}
	}
	var zero StartOptions
	if got, _ := zero.WorkflowIDReusePolicy.store(); got != store.AllowDuplicate {
		t.Errorf("the zero StartOptions map to %v, want AllowDuplicate", got)
	}
	if _, err := WorkflowIDReusePolicy(7).store(); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("unknown policy: %v, want ErrInvalidOption", err)
	}
}

func hello(context.Context, string) (string, error) { return "", nil }

type greeter struct{}

func (greeter) Greet(context.Context, string) (string, error) { return "", nil }

func TestWorkflowName(t *testing.T) {
	tests := []struct {
		in      any
		want    string
		invalid bool
	}{
		{"OrderWorkflow", "OrderWorkflow", false},
		{hello, "hello", false},
		{greeter{}.Greet, "Greet", false},
		{nil, "", true},
		{42, "", true},
	}
	for _, tt := range tests {
		got, err := workflowName(tt.in)
		if tt.invalid {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("workflowName(%v) = %q, %v; want ErrInvalidArgument", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("workflowName(%T) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
