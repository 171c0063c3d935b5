package converter_test

import (
	"encoding/json"
	"testing"

	"github.com/cairnhq/cairn/sdk/converter"
)

type order struct {
	ID    string `json:"id"`
	Cents int    `json:"cents"`
}

func TestJSONRoundTrip(t *testing.T) {
	dc := converter.JSON()
	in := order{ID: "o-1", Cents: 1299}
	b, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("payload %q is not JSON", b)
	}
	var out order
	if err := dc.FromPayload(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("got %+v, want %+v", out, in)
	}
}

func TestJSONNil(t *testing.T) {
	dc := converter.JSON()
	b, err := dc.ToPayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "null" {
		t.Fatalf("ToPayload(nil) = %q, want null", b)
	}
}

func TestJSONEmptyDataLeavesTargetUntouched(t *testing.T) {
	dc := converter.JSON()
	for _, data := range [][]byte{nil, {}, []byte("  \n")} {
		out := order{ID: "keep"}
		if err := dc.FromPayload(data, &out); err != nil {
			t.Fatalf("FromPayload(%q): %v", data, err)
		}
		if out.ID != "keep" {
			t.Fatalf("FromPayload(%q) modified the target: %+v", data, out)
		}
	}
}

func TestJSONRawMessage(t *testing.T) {
	dc := converter.JSON()
	b, err := dc.ToPayload(json.RawMessage(`{"a":1}`))
	if err != nil || string(b) != `{"a":1}` {
		t.Fatalf("got %q, %v", b, err)
	}
	if _, err := dc.ToPayload(json.RawMessage(`{`)); err == nil {
		t.Fatal("invalid raw JSON accepted")
	}
}

func TestJSONErrors(t *testing.T) {
	dc := converter.JSON()
	if _, err := dc.ToPayload(make(chan int)); err == nil {
		t.Fatal("encoding a channel succeeded")
	}
	var n int
	if err := dc.FromPayload([]byte(`"x"`), &n); err == nil {
		t.Fatal("decoding a string into an int succeeded")
	}
}
