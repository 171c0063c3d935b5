package wf

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/cairnhq/cairn/internal/executor"
	"github.com/cairnhq/cairn/sdk/converter"
)

var (
	contextType = reflect.TypeFor[Context]()
	errorType   = reflect.TypeFor[error]()
)

// ErrBadSignature is returned for a workflow function of the wrong shape.
var ErrBadSignature = errors.New("workflow function must be func(workflow.Context, In) (Out, error) or func(workflow.Context, In) error")

// Adapt turns fn, a func(workflow.Context, In) (Out, error) or
// func(workflow.Context, In) error, into the executor's form, decoding the
// input and encoding the result with dc (converter.JSON() when nil): what
// sdk/worker registers, and what testenv's environment and replayer run.
func Adapt(fn any, dc converter.DataConverter) (executor.WorkflowFunc, error) {
	if dc == nil {
		dc = converter.JSON()
	}
	v := reflect.ValueOf(fn)
	if !v.IsValid() {
		return nil, fmt.Errorf("%w; got nil", ErrBadSignature)
	}
	t := v.Type()
	if t.Kind() != reflect.Func || v.IsNil() || t.NumIn() != 2 || t.In(0) != contextType ||
		(t.NumOut() != 1 && t.NumOut() != 2) || t.Out(t.NumOut()-1) != errorType {
		return nil, fmt.Errorf("%w; got %s", ErrBadSignature, t)
	}
	inType := t.In(1)
	hasResult := t.NumOut() == 2
	return func(x *executor.Ctx, input json.RawMessage) (json.RawMessage, error) {
		x = WithConverter(x, dc)
		in := reflect.New(inType)
		if err := dc.FromPayload(input, in.Interface()); err != nil {
			return nil, fmt.Errorf("decode workflow input: %w", err)
		}
		out := v.Call([]reflect.Value{reflect.ValueOf(Wrap(x)), in.Elem()})
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
		if !hasResult {
			return nil, nil
		}
		return dc.ToPayload(out[0].Interface())
	}, nil
}
