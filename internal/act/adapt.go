package act

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/cairnhq/cairn/activities"
	"github.com/cairnhq/cairn/sdk/converter"
	"github.com/cairnhq/cairn/sdk/failure"
)

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

// Adapt returns fn, a func(context.Context, In) (Out, error) or
// func(context.Context, In) error, as the activities.Handler a worker runs:
// it decodes the task input into In with dc (converter.JSON() when nil),
// calls fn and encodes its result with dc, with Handler's error mapping.
// sdk/worker registers activities with it and testenv runs them with it, so
// both behave the same.
func Adapt(fn any, dc converter.DataConverter) (activities.Handler, error) {
	if dc == nil {
		dc = converter.JSON()
	}
	v := reflect.ValueOf(fn)
	if !v.IsValid() {
		return nil, fmt.Errorf("activity must be func(context.Context, In) (Out, error) or func(context.Context, In) error; got nil")
	}
	t := v.Type()
	if t.Kind() != reflect.Func || v.IsNil() || t.NumIn() != 2 || t.In(0) != ctxType ||
		(t.NumOut() != 1 && t.NumOut() != 2) || t.Out(t.NumOut()-1) != errType {
		return nil, fmt.Errorf("activity must be func(context.Context, In) (Out, error) or func(context.Context, In) error; got %s", t)
	}
	inType := t.In(1)
	hasResult := t.NumOut() == 2
	return Handler(func(ctx context.Context, in rawInput) ([]byte, error) {
		arg := reflect.New(inType)
		if err := dc.FromPayload(in, arg.Interface()); err != nil {
			return nil, invalidInput(err, inType)
		}
		out := v.Call([]reflect.Value{reflect.ValueOf(ctx), arg.Elem()})
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
		if !hasResult {
			return []byte("null"), nil
		}
		return dc.ToPayload(out[0].Interface())
	}, rawConverter{}), nil
}

// rawInput lets the reflective adapter reuse Handler (its error mapping)
// while decoding into a type known only at run time.
type rawInput = json.RawMessage

// rawConverter passes payloads through untouched; the adapter decodes and
// encodes with the worker's converter itself.
type rawConverter struct{}

func (rawConverter) ToPayload(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return json.Marshal(v)
}

func (rawConverter) FromPayload(data []byte, ptr any) error {
	if p, ok := ptr.(*json.RawMessage); ok {
		*p = append((*p)[:0], data...)
		return nil
	}
	return json.Unmarshal(data, ptr)
}

func invalidInput(err error, t reflect.Type) error {
	return failure.New(fmt.Sprintf("cannot decode the activity input into %s", t), FailureInvalidInput,
		failure.WithNonRetryable(), failure.WithCause(err))
}
