package converter

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// JSON returns the default DataConverter, based on encoding/json.
//
// ToPayload(nil) yields "null". FromPayload of empty or whitespace-only data
// leaves ptr untouched, so a missing input decodes to the zero value.
func JSON() DataConverter { return jsonConverter{} }

type jsonConverter struct{}

func (jsonConverter) ToPayload(v any) ([]byte, error) {
	// A json.RawMessage is already a payload; validating it keeps a bad
	// value from corrupting the JSON history it is embedded in.
	if raw, ok := v.(json.RawMessage); ok {
		if len(bytes.TrimSpace(raw)) == 0 {
			return []byte("null"), nil
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("converter: json.RawMessage is not valid JSON")
		}
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("converter: encode %T: %w", v, err)
	}
	return b, nil
}

func (jsonConverter) FromPayload(data []byte, ptr any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if ptr == nil {
		return fmt.Errorf("converter: decode into nil target")
	}
	if err := json.Unmarshal(data, ptr); err != nil {
		return fmt.Errorf("converter: decode into %T: %w", ptr, err)
	}
	return nil
}
