package worker

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/cairnhq/cairn/sdk/activity"
	"github.com/cairnhq/cairn/sdk/failure"
)

// rawInput lets the reflective adapter reuse activity.Handler (its error
// mapping and panics) while decoding into a type known only at run time.
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
	return failure.New(activity.FailureInvalidInput, fmt.Sprintf("cannot decode the activity input into %s", t),
		failure.WithNonRetryable(), failure.WithCause(err))
}
