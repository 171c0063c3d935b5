package workflow

import (
	"time"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/internal/wf"
)

// SearchAttribute is one typed attribute the run can be listed by (cairn
// workflow list --attr ...). Make one with Keyword, Text, Int, Double, Bool,
// Datetime, Keywords or Unset; client.StartOptions takes the same values.
type SearchAttribute = history.SearchAttribute

// SearchAttributes are a run's current attributes by name. Read a value
// with its typed accessor, e.g. attrs["Amount"].AsInt().
type SearchAttributes = map[string]history.SearchValue

// Keyword is an exact-match string attribute (list filter: = and !=).
func Keyword(name, v string) SearchAttribute { return history.KeywordAttr(name, v) }

// Text is a string attribute matched by substring (list filter: ~).
func Text(name, v string) SearchAttribute { return history.TextAttr(name, v) }

// Int is an integer attribute (list filters: = != < <= > >=).
func Int(name string, v int64) SearchAttribute { return history.IntAttr(name, v) }

// Double is a floating-point attribute (list filters: = != < <= > >=).
func Double(name string, v float64) SearchAttribute { return history.DoubleAttr(name, v) }

// Bool is a boolean attribute (list filter: = and !=).
func Bool(name string, v bool) SearchAttribute { return history.BoolAttr(name, v) }

// Datetime is a time attribute (list filters: = != < <= > >=).
func Datetime(name string, v time.Time) SearchAttribute { return history.DatetimeAttr(name, v) }

// Keywords is a list of exact-match strings; a filter Name=v matches when
// the list contains v.
func Keywords(name string, v ...string) SearchAttribute { return history.KeywordsAttr(name, v...) }

// Unset removes an attribute.
func Unset(name string) SearchAttribute { return history.UnsetAttr(name) }

// UpsertSearchAttributes sets (or, with Unset, removes) attributes of the
// run. The change is recorded in history with the workflow task, so it is
// deterministic and replayed like any decision; the instances index (list)
// shows it once the task commits. Attributes not named are left as they
// are. An invalid attribute (empty name, a name with an operator
// character, a value that does not match its type) returns an error
// wrapping history.ErrInvalidSearchAttribute and records nothing.
func UpsertSearchAttributes(ctx Context, attrs ...SearchAttribute) error {
	m, err := history.SearchAttributeMap(attrs)
	if err != nil || len(m) == 0 {
		return err
	}
	wf.Exec(ctx).UpsertSearchAttributes(m)
	return nil
}

// GetSearchAttributes returns a copy of the run's current attributes: the
// start's, then every upsert so far.
func GetSearchAttributes(ctx Context) SearchAttributes {
	return wf.Exec(ctx).SearchAttributes()
}
