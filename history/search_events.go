package history

import "encoding/json"

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
