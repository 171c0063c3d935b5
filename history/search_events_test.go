package history

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSearchAttrConstructors(t *testing.T) {
	at := time.Date(2026, 3, 4, 7, 6, 7, 5, time.FixedZone("X", 2*3600))
	tests := []struct {
		name string
		attr SearchAttribute
		typ  SearchType
		raw  string
	}{
		{"keyword", KeywordAttr("k", "a b"), SearchKeyword, `"a b"`},
		{"text", TextAttr("k", "hello"), SearchText, `"hello"`},
		{"int", IntAttr("k", -1<<63), SearchInt, `-9223372036854775808`},
		{"double", DoubleAttr("k", 0.25), SearchDouble, `0.25`},
		{"double NaN", DoubleAttr("k", math.NaN()), SearchDouble, `0`},
		{"double +Inf", DoubleAttr("k", math.Inf(1)), SearchDouble, `0`},
		{"double -Inf", DoubleAttr("k", math.Inf(-1)), SearchDouble, `0`},
		{"bool", BoolAttr("k", false), SearchBool, `false`},
		{"datetime in UTC", DatetimeAttr("k", at), SearchDatetime, `"2026-03-04T05:06:07.000000005Z"`},
		{"keywords", KeywordsAttr("k", "a", "b"), SearchKeywords, `["a","b"]`},
		{"no keywords", KeywordsAttr("k"), SearchKeywords, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.attr.Name != "k" || tt.attr.Value.Type != tt.typ || string(tt.attr.Value.Value) != tt.raw {
				t.Fatalf("got %s %s %s, want %s %s", tt.attr.Name, tt.attr.Value.Type, tt.attr.Value.Value, tt.typ, tt.raw)
			}
			if tt.attr.Value.Unset() {
				t.Fatal("value is unset")
			}
			if err := tt.attr.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if u := UnsetAttr("k"); u.Name != "k" || !u.Value.Unset() || u.Validate() != nil {
		t.Fatalf("UnsetAttr = %+v", u)
	}
}

// TestSearchTypeValues pins the type names stored with each value.
func TestSearchTypeValues(t *testing.T) {
	for got, want := range map[SearchType]string{
		SearchKeyword: "keyword", SearchText: "text", SearchInt: "int", SearchDouble: "double",
		SearchBool: "bool", SearchDatetime: "datetime", SearchKeywords: "keywords",
	} {
		if string(got) != want {
			t.Errorf("search type %q, want %q", got, want)
		}
	}
}

func TestSearchValueAccessors(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	if s, err := KeywordAttr("k", "x").Value.AsString(); err != nil || s != "x" {
		t.Errorf("keyword: %q %v", s, err)
	}
	if s, err := TextAttr("k", "y").Value.AsString(); err != nil || s != "y" {
		t.Errorf("text: %q %v", s, err)
	}
	if n, err := IntAttr("k", 1<<62).Value.AsInt(); err != nil || n != 1<<62 {
		t.Errorf("int: %d %v", n, err)
	}
	if f, err := DoubleAttr("k", -2.5).Value.AsDouble(); err != nil || f != -2.5 {
		t.Errorf("double: %v %v", f, err)
	}
	if b, err := BoolAttr("k", true).Value.AsBool(); err != nil || !b {
		t.Errorf("bool: %v %v", b, err)
	}
	if d, err := DatetimeAttr("k", at).Value.AsDatetime(); err != nil || !d.Equal(at) {
		t.Errorf("datetime: %v %v", d, err)
	}
	if l, err := KeywordsAttr("k", "a", "b").Value.AsKeywords(); err != nil || !reflect.DeepEqual(l, []string{"a", "b"}) {
		t.Errorf("keywords: %v %v", l, err)
	}

	errs := []struct {
		name string
		err  error
		want string
	}{
		{"wrong type", func() error { _, err := IntAttr("k", 1).Value.AsString(); return err }(), "is a int, not a keyword"},
		{"int as double", func() error { _, err := IntAttr("k", 1).Value.AsDouble(); return err }(), "is a int, not a double"},
		{"unset", func() error { _, err := (SearchValue{Type: SearchInt}).AsInt(); return err }(), "unset"},
		{"null", func() error {
			_, err := (SearchValue{Type: SearchInt, Value: json.RawMessage("null")}).AsInt()
			return err
		}(), "unset"},
		{"bad value", func() error {
			_, err := (SearchValue{Type: SearchInt, Value: json.RawMessage(`"7"`)}).AsInt()
			return err
		}(), "cannot unmarshal string"},
		{"bad datetime", func() error {
			_, err := (SearchValue{Type: SearchDatetime, Value: json.RawMessage(`"tomorrow"`)}).AsDatetime()
			return err
		}(), "tomorrow"},
	}
	for _, tt := range errs {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, tt.err, tt.want)
		}
	}
}

func TestSearchAttributeValidate(t *testing.T) {
	raw := func(typ SearchType, v string) SearchValue { return SearchValue{Type: typ, Value: json.RawMessage(v)} }
	tests := []struct {
		name    string
		attr    SearchAttribute
		wantErr string
	}{
		{"ok", KeywordAttr("Customer", "acme"), ""},
		{"longest name", KeywordAttr(strings.Repeat("n", MaxSearchAttributeName), "x"), ""},
		{"unicode name", KeywordAttr("Kunde-ä", "x"), ""},
		{"unset of unknown type", SearchAttribute{Name: "n", Value: SearchValue{Type: "nope"}}, ""},
		{"empty name", KeywordAttr("", "x"), "name"},
		{"long name", KeywordAttr(strings.Repeat("n", MaxSearchAttributeName+1), "x"), "name"},
		{"invalid UTF-8 name", KeywordAttr("a\xffb", "x"), "UTF-8"},
		{"operator =", KeywordAttr("a=b", "x"), "must not contain"},
		{"operator !", KeywordAttr("a!", "x"), "must not contain"},
		{"operator <", KeywordAttr("<a", "x"), "must not contain"},
		{"operator >", KeywordAttr("a>", "x"), "must not contain"},
		{"operator ~", KeywordAttr("a~b", "x"), "must not contain"},
		{"unknown type", SearchAttribute{Name: "n", Value: raw("blob", `1`)}, `unknown type "blob"`},
		{"int holding string", SearchAttribute{Name: "n", Value: raw(SearchInt, `"1"`)}, `"n"`},
		{"int holding fraction", SearchAttribute{Name: "n", Value: raw(SearchInt, `1.5`)}, "cannot unmarshal"},
		{"bool holding number", SearchAttribute{Name: "n", Value: raw(SearchBool, `1`)}, "cannot unmarshal"},
		{"keyword holding number", SearchAttribute{Name: "n", Value: raw(SearchKeyword, `1`)}, "cannot unmarshal"},
		{"keywords holding string", SearchAttribute{Name: "n", Value: raw(SearchKeywords, `"a"`)}, "cannot unmarshal"},
		{"datetime not RFC 3339", SearchAttribute{Name: "n", Value: raw(SearchDatetime, `"2026-03-04"`)}, "cannot parse"},
		{"double holding bool", SearchAttribute{Name: "n", Value: raw(SearchDouble, `true`)}, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.attr.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidSearchAttribute) {
				t.Fatalf("error %v does not wrap ErrInvalidSearchAttribute", err)
			}
		})
	}
}

func TestSearchAttributeMap(t *testing.T) {
	m, err := SearchAttributeMap(nil)
	if m != nil || err != nil {
		t.Fatalf("empty: %v %v", m, err)
	}
	m, err = SearchAttributeMap([]SearchAttribute{
		KeywordAttr("a", "first"), IntAttr("b", 1), KeywordAttr("a", "second"),
		UnsetAttr("c"),
		{Name: "d", Value: SearchValue{Type: SearchInt, Value: json.RawMessage("null")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]SearchValue{
		"a": KeywordAttr("a", "second").Value, // a later attribute of the same name wins
		"b": IntAttr("b", 1).Value,
		"c": {},                // an unset is kept, so that it removes the attribute
		"d": {Type: SearchInt}, // a null value is stored as no value
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v, want %+v", m, want)
	}
	if _, err := SearchAttributeMap([]SearchAttribute{IntAttr("ok", 1), KeywordAttr("", "x")}); !errors.Is(err, ErrInvalidSearchAttribute) {
		t.Fatalf("invalid attribute: %v", err)
	}
}

func TestApplySearchAttributes(t *testing.T) {
	a, b, c := KeywordAttr("a", "1").Value, IntAttr("b", 2).Value, BoolAttr("c", true).Value
	cur := map[string]SearchValue{"a": a, "b": b}
	tests := []struct {
		name    string
		cur     map[string]SearchValue
		upserts map[string]SearchValue
		want    map[string]SearchValue
	}{
		{"no upserts", cur, nil, cur},
		{"add", cur, map[string]SearchValue{"c": c}, map[string]SearchValue{"a": a, "b": b, "c": c}},
		{"replace", cur, map[string]SearchValue{"a": c}, map[string]SearchValue{"a": c, "b": b}},
		{"remove", cur, map[string]SearchValue{"a": {Type: SearchKeyword}}, map[string]SearchValue{"b": b}},
		{"remove absent", cur, map[string]SearchValue{"z": {}}, map[string]SearchValue{"a": a, "b": b}},
		{"remove all", cur, map[string]SearchValue{"a": {}, "b": {Value: json.RawMessage("null")}}, nil},
		{"onto nil", nil, map[string]SearchValue{"c": c}, map[string]SearchValue{"c": c}},
		{"remove onto nil", nil, map[string]SearchValue{"c": {}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string]SearchValue{"a": a, "b": b}
			got := ApplySearchAttributes(tt.cur, tt.upserts)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(cur, before) {
				t.Fatalf("cur was modified: %+v", cur)
			}
		})
	}
}

func TestSearchAttributesOf(t *testing.T) {
	a1, a2, b := KeywordAttr("a", "1").Value, KeywordAttr("a", "2").Value, IntAttr("b", 2).Value
	ev := func(attrs any) *Event { return &Event{Attributes: attrs} }
	if got := SearchAttributesOf(nil); got != nil {
		t.Fatalf("no batches: %v", got)
	}
	batches := []Batch{
		{ev(&WorkflowStarted{SearchAttributes: map[string]SearchValue{"a": a1}})},
		{ev(&SearchAttributesUpserted{Attributes: map[string]SearchValue{"b": b}}), ev(&TimerFired{ID: 1})},
		{ev(&SearchAttributesUpserted{Attributes: map[string]SearchValue{"a": a2}})},
	}
	want := map[string]SearchValue{"a": a2, "b": b}
	if got := SearchAttributesOf(batches); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// The start's attributes are not modified by later upserts.
	if got := batches[0][0].Attributes.(*WorkflowStarted).SearchAttributes["a"]; !reflect.DeepEqual(got, a1) {
		t.Fatalf("start attributes changed to %+v", got)
	}
	removed := append(batches, Batch{ev(&SearchAttributesUpserted{Attributes: map[string]SearchValue{"a": {}, "b": {}}})})
	if got := SearchAttributesOf(removed); got != nil {
		t.Fatalf("all removed: %+v", got)
	}
}
