package history

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Batches is the stored form of several batches in one message: a JSON
// array of batches. A run made by reset or redrive begins with such a
// message, so that the copied prefix keeps its task boundaries (replay
// matches commands batch by batch) and still lands in one append.
type Batches []Batch

// Encode returns the stored form of the batches.
func (bs Batches) Encode() ([]byte, error) { return json.Marshal(bs) }

// DecodeBatches parses a stored history message: one batch (a JSON array of
// events) or several (a JSON array of batches).
func DecodeBatches(data []byte) ([]Batch, error) {
	if rest, ok := bytes.CutPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("[")); ok &&
		bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte("[")) {
		var bs Batches
		if err := json.Unmarshal(data, &bs); err != nil {
			return nil, fmt.Errorf("history: decode batches: %w", err)
		}
		for _, b := range bs {
			if err := b.check(); err != nil {
				return nil, err
			}
		}
		return bs, nil
	}
	b, err := DecodeBatch(data)
	if err != nil {
		return nil, err
	}
	return []Batch{b}, nil
}
