package executor

import (
	"maps"

	"github.com/cairnhq/cairn/history"
)

// UpsertSearchAttributes records a change of the run's search attributes
// (an unset value removes one). The recorded event, not the argument, is
// applied, so a replay reads back what was committed.
func (c *Ctx) UpsertSearchAttributes(attrs map[string]history.SearchValue) {
	in := c.inst
	ev := in.command(&history.Event{Type: history.TypeSearchAttributesUpserted,
		Attributes: &history.SearchAttributesUpserted{Attributes: attrs}})
	a := ev.Attributes.(*history.SearchAttributesUpserted)
	in.searchAttrs = history.ApplySearchAttributes(in.SearchAttributes(), a.Attributes)
	if in.searchAttrs == nil {
		// Every attribute removed: remember that, so the start's
		// attributes do not come back.
		in.searchAttrs = map[string]history.SearchValue{}
	}
}

// SearchAttributes returns the run's current search attributes (those of
// its start, then every upsert so far). The map must not be modified.
func (in *Instance) SearchAttributes() map[string]history.SearchValue {
	if in.searchAttrs != nil {
		return in.searchAttrs
	}
	if in.started == nil {
		return nil
	}
	return history.ApplySearchAttributes(nil, in.started.SearchAttributes)
}

// SearchAttributes returns a copy of the run's current search attributes.
func (c *Ctx) SearchAttributes() map[string]history.SearchValue {
	return maps.Clone(c.inst.SearchAttributes())
}
