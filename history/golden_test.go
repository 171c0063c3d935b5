package history

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The history format is durable: every event ever committed stays in
// JetStream and is replayed by later versions of cairn. These tests pin
// the stored JSON of every event type to a checked-in file, so renaming a
// field, dropping a tag or changing an encoding fails here instead of in a
// customer's replay. After an intended, backward-compatible change (a new
// optional field), regenerate with:
//
//	go test ./history -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files of the history format")

const goldenDir = "testdata/golden"

// goldenTime is the fixed clock of every golden value.
var goldenTime = time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)

// eventTypesDeclared lists the EventType constants declared in the
// package (event.go today, any non-test file tomorrow), read from the
// source so that a new event type without a golden file fails
// TestGoldenCoversEveryEventType.
func eventTypesDeclared(t *testing.T) []EventType {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var decls []ast.Decl
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		decls = append(decls, f.Decls...)
	}
	var types []EventType
	for _, d := range decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "EventType" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("EventType constant with a non-literal value at %v", v.Pos())
				}
				s, _ := strconv.Unquote(lit.Value)
				types = append(types, EventType(s))
			}
		}
	}
	if len(types) < 30 {
		t.Fatalf("found only %d EventType constants in the package; did the declaration change shape?", len(types))
	}
	return types
}

// filled returns a value of type t with every field set to a non-zero value
// derived from its path, so that any field that does not survive the round
// trip, or is renamed, shows in the golden file and in the comparison.
func filled(t reflect.Type, path string) reflect.Value {
	v := reflect.New(t).Elem()
	switch {
	case t == reflect.TypeOf(time.Time{}):
		v.Set(reflect.ValueOf(goldenTime.Add(time.Duration(len(path)) * time.Second)))
		return v
	case t == reflect.TypeOf(json.RawMessage(nil)):
		v.SetBytes([]byte(`{"` + path + `":[1,"two",true]}`))
		return v
	case t == reflect.TypeOf(Duration(0)):
		v.SetInt(int64(time.Duration(len(path)) * time.Second))
		return v
	case t == reflect.TypeOf(SearchValue{}):
		v.Set(reflect.ValueOf(SearchValue{Type: SearchKeyword, Value: json.RawMessage(`"` + path + `"`)}))
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(len(path)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(len(path)) * 1_000_003)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(len(path)) + 0.5)
	case reflect.Pointer:
		// Recursive types (a Failure's Cause) stop after one nesting.
		if strings.Count(path, ".") > 4 {
			return v
		}
		v.Set(filled(t.Elem(), path).Addr())
	case reflect.Slice:
		s := reflect.MakeSlice(t, 2, 2)
		for i := range 2 {
			s.Index(i).Set(filled(t.Elem(), fmt.Sprintf("%s.%d", path, i)))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(t)
		k := reflect.New(t.Key()).Elem()
		k.SetString(path + ".key")
		m.SetMapIndex(k, filled(t.Elem(), path+".value"))
		v.Set(m)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue // not stored (e.g. a callback's nonce, carried in memory)
			}
			v.Field(i).Set(filled(f.Type, path+"."+f.Name))
		}
	case reflect.Interface:
		// No event attribute holds an interface today; a new one needs a
		// golden rule of its own.
		panic(fmt.Sprintf("golden: no rule for interface field %s", path))
	default:
		panic(fmt.Sprintf("golden: no rule for %s (%s)", path, t))
	}
	return v
}

// goldenEvent is a fully populated event of type typ.
func goldenEvent(t *testing.T, typ EventType, seq int64) *Event {
	t.Helper()
	attrs, err := newAttributes(typ)
	if err != nil {
		t.Fatal(err)
	}
	rv := reflect.ValueOf(attrs).Elem()
	rv.Set(filled(rv.Type(), string(typ)))
	return &Event{Seq: seq, Time: goldenTime, Type: typ, Attributes: attrs}
}

// compareGolden checks data against testdata/golden/name, or rewrites the
// file under -update.
func compareGolden(t *testing.T, name string, data []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, data, "", "  "); err != nil {
		t.Fatalf("%s: stored form is not JSON: %v", name, err)
	}
	pretty.WriteByte('\n')
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: no golden file (a new event type? run go test ./history -run Golden -update and review it): %v", name, err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("the stored form of %s changed; stored histories would no longer read back the same.\n--- got\n%s\n--- want (%s)\n%s",
			name, pretty.Bytes(), path, want)
	}
}

// TestGoldenEventRoundTrip encodes one fully populated event of every type
// as the engine stores it (a batch), compares the bytes with the checked-in
// file, decodes the file (what a later version reads back) and compares it
// with the original value.
func TestGoldenEventRoundTrip(t *testing.T) {
	for _, typ := range eventTypesDeclared(t) {
		t.Run(string(typ), func(t *testing.T) {
			ev := goldenEvent(t, typ, int64(len(typ))) // independent of declaration order
			data, err := Batch{ev}.Encode()
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, string(typ)+".json", data)
			back, err := DecodeBatch(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != 1 || !reflect.DeepEqual(back[0], ev) {
				got, _ := json.Marshal(back)
				t.Errorf("round trip of %s lost or changed a field:\n got %s\nwant %s", typ, got, data)
			}
			// What is stored today (the golden file) reads back to the
			// same value: the decoder still understands old histories.
			readsBack(t, string(typ)+".json", data, func(b []byte) (any, error) { return DecodeBatch(b) })
		})
	}
}

// TestGoldenCoversEveryEventType fails when an event type is declared
// without a golden file, or a golden file names no declared type.
func TestGoldenCoversEveryEventType(t *testing.T) {
	declared := eventTypesDeclared(t)
	for _, typ := range declared {
		if _, err := newAttributes(typ); err != nil {
			t.Errorf("%s is declared but cannot be decoded: %v", typ, err)
		}
	}
	if *update {
		return
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	others := map[string]bool{"Batches.json": true, "Failure.json": true, "Summary.json": true,
		// golden_forms_test.go
		"ZeroAttributes.json": true, "Durations.json": true, "Export.json": true, "CallbackToken.json": true}
	for _, f := range files {
		name := filepath.Base(f)
		if others[name] {
			continue
		}
		if !slices.Contains(declared, EventType(name[:len(name)-len(".json")])) {
			t.Errorf("golden file %s names no declared event type", name)
		}
	}
	for _, typ := range declared {
		if _, err := os.Stat(filepath.Join(goldenDir, string(typ)+".json")); err != nil {
			t.Errorf("event type %s has no golden file", typ)
		}
	}
}

// TestGoldenBatches pins the multi-batch form written as the first message
// of a run made by reset or redrive (a JSON array of batches).
func TestGoldenBatches(t *testing.T) {
	batches := []Batch{
		{goldenEvent(t, TypeWorkflowStarted, 1), goldenEvent(t, TypeActivityScheduled, 2)},
		{goldenEvent(t, TypeActivityCompleted, 3)},
	}
	data, err := json.Marshal(batches)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "Batches.json", data)
	readsBack(t, "Batches.json", data, func(b []byte) (any, error) { return DecodeBatches(b) })
	back, err := DecodeBatches(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, batches) {
		t.Errorf("multi-batch round trip changed the batches")
	}
	// A plain batch still reads as one batch.
	one, err := DecodeBatches(must(Batch{goldenEvent(t, TypeTimerFired, 4)}.Encode()))
	if err != nil || len(one) != 1 || len(one[0]) != 1 {
		t.Errorf("a single batch decoded as %d batches: %v", len(one), err)
	}
}

// TestGoldenFailureAndSummary pins the two other stored shapes: the failure
// carried by failed events and close notices, and the instance summary kept
// in the instances bucket.
func TestGoldenFailureAndSummary(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
	}{
		{"Failure.json", filled(reflect.TypeOf(Failure{}), "Failure").Addr().Interface()},
		{"Summary.json", filled(reflect.TypeOf(Summary{}), "Summary").Addr().Interface()},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, c.name, data)
			decode := func(b []byte) (any, error) {
				back := reflect.New(reflect.TypeOf(c.v).Elem()).Interface()
				return back, json.Unmarshal(b, back)
			}
			readsBack(t, c.name, data, decode)
			back, err := decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, c.v) {
				t.Errorf("round trip of %s changed a field", c.name)
			}
		})
	}
}

// TestDecodeRejectsMalformedHistory: what cannot be read is an error that
// says why, never a silently empty or partial batch.
func TestDecodeRejectsMalformedHistory(t *testing.T) {
	for _, c := range []struct{ name, data string }{
		{"not json", `{{`},
		{"truncated", `[{"seq":1,"time":"2026-01-01T00:00:00Z","type":"TimerFired","attributes":{"id":`},
		{"unknown type", `[{"seq":1,"time":"2026-01-01T00:00:00Z","type":"NoSuchEvent","attributes":{}}]`},
		{"attributes of the wrong shape", `[{"seq":1,"time":"2026-01-01T00:00:00Z","type":"TimerFired","attributes":{"id":"x"}}]`},
		{"bad duration", `[{"seq":1,"time":"2026-01-01T00:00:00Z","type":"WorkflowTimedOut","attributes":{"timeout":"soon"}}]`},
		{"bad time", `[{"seq":1,"time":"yesterday","type":"TimerFired","attributes":{"id":1}}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if b, err := DecodeBatch([]byte(c.data)); err == nil {
				t.Errorf("DecodeBatch accepted it: %d events", len(b))
			}
			if bs, err := DecodeBatches([]byte(c.data)); err == nil {
				t.Errorf("DecodeBatches accepted it: %d batches", len(bs))
			}
		})
	}
}

// readsBack decodes the golden file name and encodes it again: the result
// must be what the current code stores (compact form of the same JSON).
func readsBack(t *testing.T, name string, want []byte, decode func([]byte) (any, error)) {
	t.Helper()
	stored, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := decode(stored)
	if err != nil {
		t.Fatalf("decode the golden file %s: %v", name, err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := json.Compact(&a, again); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&b, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("golden file %s does not read back to what is stored today:\n got %s\nwant %s", name, a.Bytes(), b.Bytes())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDecodeRejectsNullEvents: JSON accepts null where no writer puts one;
// a null event would be dereferenced by every reader.
func TestDecodeRejectsNullEvents(t *testing.T) {
	for _, data := range []string{`null`, `[null]`, `[[null]]`, `[[{"seq":1,"time":"2026-01-01T00:00:00Z","type":"TimerFired","attributes":{"id":1}}],null]`} {
		if bs, err := DecodeBatches([]byte(data)); err == nil {
			t.Errorf("DecodeBatches(%s) = %d batches, no error", data, len(bs))
		}
	}
	if b, err := DecodeBatch([]byte(`[null]`)); err == nil {
		t.Errorf("DecodeBatch([null]) = %v, no error", b)
	}
}

// TestParseExportRejectsNegativeBatchIndex: an export edited by hand is
// input from outside; a bad index is an error, not a panic.
func TestParseExportRejectsNegativeBatchIndex(t *testing.T) {
	data := `[{"seq":1,"time":"2026-01-01T00:00:00Z","type":"TimerFired","attributes":{"id":1},"batch":-1}]`
	if bs, err := ParseExport([]byte(data)); err == nil {
		t.Errorf("ParseExport = %d batches, no error", len(bs))
	}
}
