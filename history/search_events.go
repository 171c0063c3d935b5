package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SearchType is the type of a search attribute's value; list filters
// compare values of the same type only.
type SearchType string

// The search attribute types.
const (
	SearchKeyword  SearchType = "keyword"  // exact-match string
	SearchText     SearchType = "text"     // string matched by substring
	SearchInt      SearchType = "int"      // int64
	SearchDouble   SearchType = "double"   // float64
	SearchBool     SearchType = "bool"     // bool
	SearchDatetime SearchType = "datetime" // RFC 3339 time
	SearchKeywords SearchType = "keywords" // list of exact-match strings
)

// SearchValue is one typed search attribute value; a nil Value removes
// the attribute.
type SearchValue struct {
	Type  SearchType      `json:"type"`
	Value json.RawMessage `json:"value,omitempty"`
}

// SearchAttributesUpserted records attributes the workflow set (or
// removed) for list filters.
type SearchAttributesUpserted struct {
	Attributes map[string]SearchValue `json:"attributes"`
}

// SearchAttribute is one named attribute, as set by a workflow
// (workflow.UpsertSearchAttributes) or at start (client.StartOptions).
// Build it with the typed constructors (KeywordAttr, IntAttr, ...), so the
// stored value always matches its type.
type SearchAttribute struct {
	Name  string
	Value SearchValue
}

// MaxSearchAttributeName bounds an attribute name, in bytes.
const MaxSearchAttributeName = 128

func searchAttr(name string, t SearchType, v any) SearchAttribute {
	raw, _ := json.Marshal(v) // strings, numbers, bools and string slices always encode
	return SearchAttribute{Name: name, Value: SearchValue{Type: t, Value: raw}}
}

// KeywordAttr is an exact-match string attribute.
func KeywordAttr(name, v string) SearchAttribute { return searchAttr(name, SearchKeyword, v) }

// TextAttr is a string attribute matched by substring.
func TextAttr(name, v string) SearchAttribute { return searchAttr(name, SearchText, v) }

// IntAttr is an integer attribute, filtered by ranges.
func IntAttr(name string, v int64) SearchAttribute { return searchAttr(name, SearchInt, v) }

// DoubleAttr is a floating-point attribute, filtered by ranges. NaN and the
// infinities have no JSON form and are stored as 0.
func DoubleAttr(name string, v float64) SearchAttribute {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	return searchAttr(name, SearchDouble, v)
}

// BoolAttr is a boolean attribute.
func BoolAttr(name string, v bool) SearchAttribute { return searchAttr(name, SearchBool, v) }

// DatetimeAttr is a time attribute (stored in UTC, RFC 3339 with
// nanoseconds), filtered by ranges.
func DatetimeAttr(name string, v time.Time) SearchAttribute {
	return searchAttr(name, SearchDatetime, v.UTC().Format(time.RFC3339Nano))
}

// KeywordsAttr is a list of exact-match strings; a filter matches when the
// list contains the value.
func KeywordsAttr(name string, v ...string) SearchAttribute {
	if v == nil {
		v = []string{}
	}
	return searchAttr(name, SearchKeywords, v)
}

// UnsetAttr removes an attribute.
func UnsetAttr(name string) SearchAttribute { return SearchAttribute{Name: name} }

// Unset reports whether the value removes its attribute.
func (v SearchValue) Unset() bool { return len(v.Value) == 0 || string(v.Value) == "null" }

// ErrInvalidSearchAttribute is wrapped by Validate's errors.
var ErrInvalidSearchAttribute = errors.New("invalid search attribute")

// Validate checks the attribute's name and that its value decodes as its
// type.
func (a SearchAttribute) Validate() error {
	if a.Name == "" || len(a.Name) > MaxSearchAttributeName || !utf8.ValidString(a.Name) {
		return fmt.Errorf("%w: name %q must be valid UTF-8 of 1..%d bytes", ErrInvalidSearchAttribute, a.Name, MaxSearchAttributeName)
	}
	if strings.ContainsAny(a.Name, "=!<>~") {
		// The list filters' operators could not tell name from operator.
		return fmt.Errorf("%w: name %q must not contain = ! < > ~", ErrInvalidSearchAttribute, a.Name)
	}
	if a.Value.Unset() {
		return nil
	}
	if err := a.Value.check(); err != nil {
		return fmt.Errorf("%w: %q: %w", ErrInvalidSearchAttribute, a.Name, err)
	}
	return nil
}

func (v SearchValue) check() error {
	var err error
	switch v.Type {
	case SearchKeyword, SearchText:
		_, err = v.AsString()
	case SearchInt:
		_, err = v.AsInt()
	case SearchDouble:
		_, err = v.AsDouble()
	case SearchBool:
		_, err = v.AsBool()
	case SearchDatetime:
		_, err = v.AsDatetime()
	case SearchKeywords:
		_, err = v.AsKeywords()
	default:
		return fmt.Errorf("unknown type %q", v.Type)
	}
	return err
}

// AsString decodes a keyword or text value.
func (v SearchValue) AsString() (string, error) {
	var s string
	err := v.decode(&s, SearchKeyword, SearchText)
	return s, err
}

// AsInt decodes an int value.
func (v SearchValue) AsInt() (int64, error) {
	var n int64
	err := v.decode(&n, SearchInt)
	return n, err
}

// AsDouble decodes a double value.
func (v SearchValue) AsDouble() (float64, error) {
	var f float64
	err := v.decode(&f, SearchDouble)
	return f, err
}

// AsBool decodes a bool value.
func (v SearchValue) AsBool() (bool, error) {
	var b bool
	err := v.decode(&b, SearchBool)
	return b, err
}

// AsDatetime decodes a datetime value.
func (v SearchValue) AsDatetime() (time.Time, error) {
	var s string
	if err := v.decode(&s, SearchDatetime); err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, s)
}

// AsKeywords decodes a keywords value.
func (v SearchValue) AsKeywords() ([]string, error) {
	var l []string
	err := v.decode(&l, SearchKeywords)
	return l, err
}

func (v SearchValue) decode(into any, types ...SearchType) error {
	if !slices.Contains(types, v.Type) {
		return fmt.Errorf("search attribute value is a %s, not a %s", v.Type, types[0])
	}
	if v.Unset() {
		return fmt.Errorf("search attribute value is unset")
	}
	return json.Unmarshal(v.Value, into)
}

// ApplySearchAttributes returns cur with the upserts applied (an unset
// value removes its attribute); cur is not modified. The result is nil
// when no attribute remains.
func ApplySearchAttributes(cur, upserts map[string]SearchValue) map[string]SearchValue {
	if len(upserts) == 0 {
		return cur
	}
	out := make(map[string]SearchValue, len(cur)+len(upserts))
	maps.Copy(out, cur)
	for name, v := range upserts {
		if v.Unset() {
			delete(out, name)
		} else {
			out[name] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// SearchAttributesOf returns the attributes of a run after the given
// batches: those of its start, then every upsert in order.
func SearchAttributesOf(batches []Batch) map[string]SearchValue {
	var out map[string]SearchValue
	for _, b := range batches {
		for _, ev := range b {
			switch a := ev.Attributes.(type) {
			case *WorkflowStarted:
				out = ApplySearchAttributes(nil, a.SearchAttributes)
			case *SearchAttributesUpserted:
				out = ApplySearchAttributes(out, a.Attributes)
			}
		}
	}
	return out
}

// SearchAttributeMap turns a list of attributes into the stored form,
// validating each; a later attribute of the same name wins.
func SearchAttributeMap(attrs []SearchAttribute) (map[string]SearchValue, error) {
	if len(attrs) == 0 {
		return nil, nil
	}
	out := make(map[string]SearchValue, len(attrs))
	for _, a := range attrs {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if a.Value.Unset() {
			a.Value = SearchValue{Type: a.Value.Type}
		}
		out[a.Name] = a.Value
	}
	return out, nil
}
