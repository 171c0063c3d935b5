package client

import (
	"errors"
	"testing"
	"time"
)

// Fuzz targets of the listing's text inputs: attribute filters come from
// users (`cairn workflow list --where`), page tokens back from whoever
// holds them. .ci/fuzz runs every target.

// FuzzParseAttributeFilter checks that ParseAttributeFilter either rejects
// a filter with ErrInvalidArgument or returns one that, written NAME OP
// VALUE with spaces around the operator, parses to itself.
func FuzzParseAttributeFilter(f *testing.F) {
	for _, s := range []string{"Customer=acme", "Amount>=100", "Note~late", "Done!=true", "When<2026-01-01", " a = b ", "=x", "a<=", "a< =b", "é>ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		af, err := ParseAttributeFilter(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("ParseAttributeFilter(%q): error %v does not wrap ErrInvalidArgument", s, err)
			}
			return
		}
		switch af.Op {
		case OpEqual, OpNotEqual, OpLess, OpLessOrEqual, OpGreater, OpGreaterOrEqual, OpContains:
		default:
			t.Fatalf("ParseAttributeFilter(%q): unknown op %q", s, af.Op)
		}
		text := af.Name + " " + string(af.Op) + " " + af.Value
		again, err := ParseAttributeFilter(text)
		if err != nil || again != af {
			t.Fatalf("ParseAttributeFilter(%q) = %+v; written %q it parses to %+v, %v", s, af, text, again, err)
		}
	})
}

// FuzzDecodeCursor checks that a page token that decodes re-encodes to a
// token that decodes to the same position.
func FuzzDecodeCursor(f *testing.F) {
	f.Add((&cursor{Start: time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC), ID: "order-42", Filter: 1 << 60}).encode())
	f.Add((&cursor{}).encode())
	f.Add("e30")
	f.Add("!")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := decodeCursor(tok)
		if err != nil {
			return
		}
		again, err := decodeCursor(c.encode())
		if err != nil || !again.Start.Equal(c.Start) || again.ID != c.ID || again.Filter != c.Filter {
			t.Fatalf("decodeCursor(%q) = %+v, whose encoding decodes to %+v, %v", tok, c, again, err)
		}
	})
}
