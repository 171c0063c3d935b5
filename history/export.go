package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ExportedEvent is one event of an exported history (`cairn workflow
// history --json`, testenv's WorkflowEnv.HistoryJSON): the stored event
// form plus Batch, the 0-based index of the workflow task (stored batch)
// that committed it. Replay needs the batch boundaries, since workflow code
// runs once per batch; readers that only want events decode the export
// into []*Event and ignore the extra field.
type ExportedEvent struct {
	Seq        int64     `json:"seq"`
	Batch      int       `json:"batch"`
	Time       time.Time `json:"time"`
	Type       EventType `json:"type"`
	Attributes any       `json:"attributes"`
}

// ExportEvents flattens batches into the export form, oldest first.
func ExportEvents(batches []Batch) []ExportedEvent {
	out := []ExportedEvent{}
	for i, b := range batches {
		for _, ev := range b {
			out = append(out, ExportedEvent{Seq: ev.Seq, Batch: i, Time: ev.Time, Type: ev.Type, Attributes: ev.Attributes})
		}
	}
	return out
}

// ParseExport reads an exported history back into its batches. It accepts
// the export form (a JSON array of events carrying "batch"), the stored
// form (a JSON array of batches, each an array of events), and exports
// made before "batch" existed (a JSON array of plain events), whose
// batches are rebuilt from event times: every event of a workflow task
// carries the task's time, so this is exact unless two consecutive tasks
// started in the same nanosecond.
func ParseExport(data []byte) ([]Batch, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '[' {
		return nil, errors.New("history: export is not a JSON array")
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("history: parse export: %w", err)
	}
	if len(raws) > 0 && bytes.HasPrefix(bytes.TrimSpace(raws[0]), []byte("[")) {
		var batches []Batch
		if err := json.Unmarshal(data, &batches); err != nil {
			return nil, fmt.Errorf("history: parse export: %w", err)
		}
		for _, b := range batches {
			if err := b.check(); err != nil {
				return nil, err
			}
		}
		return batches, nil
	}
	var batches []Batch
	withIndex, last := 0, -1
	for i, raw := range raws {
		ev := new(Event)
		if err := json.Unmarshal(raw, ev); err != nil {
			return nil, fmt.Errorf("history: parse export: event %d: %w", i, err)
		}
		var idx struct {
			Batch *int `json:"batch"`
		}
		if err := json.Unmarshal(raw, &idx); err != nil {
			return nil, fmt.Errorf("history: parse export: event %d: %w", i, err)
		}
		var next bool
		if idx.Batch != nil {
			if *idx.Batch < 0 {
				return nil, fmt.Errorf("history: parse export: event %d (seq %d): negative batch index %d", i, ev.Seq, *idx.Batch)
			}
			withIndex++
			if *idx.Batch < last {
				return nil, fmt.Errorf("history: parse export: event %d (seq %d) is in batch %d, after batch %d", i, ev.Seq, *idx.Batch, last)
			}
			next = *idx.Batch != last
			last = *idx.Batch
		} else {
			next = len(batches) == 0 || !ev.Time.Equal(batches[len(batches)-1][0].Time)
		}
		if next {
			batches = append(batches, Batch{})
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], ev)
	}
	if withIndex != 0 && withIndex != len(raws) {
		return nil, fmt.Errorf("history: parse export: %d of %d events carry a batch index", withIndex, len(raws))
	}
	return batches, nil
}
