package converter

// DataConverter serializes workflow and activity inputs and results.
//
// Implementations must be safe for concurrent use. ToPayload must return
// valid JSON because payloads are embedded in JSON history and wire messages.
// FromPayload must treat empty (or nil) data as "no value" and leave the
// target untouched, so optional inputs decode to their zero value.
type DataConverter interface {
	// ToPayload encodes v as a JSON document.
	ToPayload(v any) ([]byte, error)
	// FromPayload decodes data into the value pointed to by ptr.
	FromPayload(data []byte, ptr any) error
}
