package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets of the history decoders. History messages are read back from
// a stream anyone with the namespace's credentials can write to, exports
// come from files (`cairn workflow replay`, testenv.ReplayHistory), and
// callback tokens from external parties. .ci/fuzz runs every target.

// seedGolden adds every golden file (one event per batch, batches, an
// export) to the corpus of f.
func seedGolden(f *testing.F) {
	names, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no golden files: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`[[]]`))
	f.Add([]byte(`[null]`))
	f.Add([]byte(`[{"seq":1,"time":"0000-01-01T00:00:00+01:00","type":"WorkflowTimedOut","attributes":{"timeout":-9223372036854775808}}]`))
}

// checkHistoryError: decoders have no sentinel error, but every error says
// it comes from history decoding.
func checkHistoryError(t *testing.T, what string, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "history: ") {
		t.Fatalf("%s: error %q does not say it is a history error", what, err)
	}
}

// reencodes checks that bs encodes, and that its encoding decodes to a
// value that encodes identically: what a reader accepts, a writer can store
// again (reset and redrive copy history this way).
func reencodes(t *testing.T, bs []Batch) []byte {
	t.Helper()
	if len(bs) == 0 {
		return []byte("[]") // an export without events
	}
	for i, b := range bs {
		for j, ev := range b {
			if ev == nil {
				t.Fatalf("batch %d, event %d is nil", i, j)
			}
		}
	}
	enc, err := Batches(bs).Encode()
	if err != nil {
		t.Fatalf("decoded batches do not encode: %v", err)
	}
	again, err := DecodeBatches(enc)
	if err != nil {
		t.Fatalf("re-encoded batches do not decode: %v\n%s", err, enc)
	}
	enc2, err := Batches(again).Encode()
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("re-encoding is not stable (%v):\n%s\n%s", err, enc, enc2)
	}
	return enc
}

// FuzzDecodeBatch checks that DecodeBatch rejects what it cannot read with
// an error, and that what it accepts has no nil event and re-encodes.
func FuzzDecodeBatch(f *testing.F) {
	seedGolden(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatch(data)
		if err != nil {
			checkHistoryError(t, "DecodeBatch", err)
			return
		}
		reencodes(t, []Batch{b})
		enc, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if again, err := DecodeBatch(enc); err != nil || len(again) != len(b) {
			t.Fatalf("Encode(DecodeBatch(data)) = %s: %d events, %v; want %d", enc, len(again), err, len(b))
		}
	})
}

// FuzzDecodeBatches checks the same for history messages of one or several
// batches, and that a single batch reads the same either way.
func FuzzDecodeBatches(f *testing.F) {
	seedGolden(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := DecodeBatches(data)
		if err != nil {
			checkHistoryError(t, "DecodeBatches", err)
			return
		}
		enc := reencodes(t, bs)
		if len(bs) == 1 {
			one, err := bs[0].Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeBatches(one)
			if err != nil || len(back) != 1 {
				t.Fatalf("a single batch %s does not read back as one: %d, %v (from %s)", one, len(back), err, enc)
			}
		}
	})
}

// FuzzParseExport checks that ParseExport rejects what it cannot read with
// an error, and that an accepted history exports (ExportEvents) into a form
// that parses back to the same batches.
func FuzzParseExport(f *testing.F) {
	seedGolden(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := ParseExport(data)
		if err != nil {
			checkHistoryError(t, "ParseExport", err)
			return
		}
		enc := reencodes(t, bs)
		for _, b := range bs {
			if len(b) == 0 {
				return // the export form has no way to say "an empty batch"
			}
		}
		exp, err := json.Marshal(ExportEvents(bs))
		if err != nil {
			t.Fatalf("ExportEvents: %v", err)
		}
		back, err := ParseExport(exp)
		if err != nil {
			t.Fatalf("the export of an accepted history does not parse: %v\n%s", err, exp)
		}
		if enc2 := reencodes(t, back); !bytes.Equal(enc, enc2) {
			t.Fatalf("export round trip differs:\n%s\n%s", enc, enc2)
		}
	})
}

// FuzzParseCallbackToken checks that ParseCallbackToken rejects with
// ErrInvalidToken, or returns a token that Encode turns into a string that
// parses to the same token.
func FuzzParseCallbackToken(f *testing.F) {
	nonce := strings.Repeat("ab", 16)
	for _, tok := range []CallbackToken{
		{WorkflowID: "order-42", Run: "run-0001", ID: 7, Nonce: "0123456789abcdef0123456789abcdef"},
		{WorkflowID: "wf/with spaces+ünïcode", Run: "r1", ID: 1 << 40, Nonce: nonce},
	} {
		f.Add(tok.Encode())
	}
	f.Add("")
	f.Add("e30")
	f.Add("eyJ3IjoiIiwiciI6IiIsImMiOjAsIm4iOiIifQ==")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseCallbackToken(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("ParseCallbackToken(%q): error %v does not wrap ErrInvalidToken", s, err)
			}
			return
		}
		again, err := ParseCallbackToken(tok.Encode())
		if err != nil || *again != *tok {
			t.Fatalf("ParseCallbackToken(%q) = %+v, whose encoding parses to %+v, %v", s, tok, again, err)
		}
	})
}

// FuzzDuration checks that a Duration that decodes re-encodes to a string
// that decodes to the same value.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{`"1h30m5s"`, `"-2562047h47m16.854775808s"`, `"2562047h47m16.854775807s"`, `1500`, `"1.5µs"`, `null`, `"soon"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Duration
		if err := json.Unmarshal(data, &d); err != nil {
			return
		}
		enc, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("Duration %d does not encode: %v", d, err)
		}
		var again Duration
		if err := json.Unmarshal(enc, &again); err != nil || again != d {
			t.Fatalf("Duration %s: decodes to %d, %v; want %d", enc, again, err, d)
		}
	})
}
