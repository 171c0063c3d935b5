package history

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDurationMarshal(t *testing.T) {
	tests := []struct {
		d    Duration
		want string
	}{
		{0, `"0s"`},
		{Duration(time.Nanosecond), `"1ns"`},
		{Duration(1500 * time.Millisecond), `"1.5s"`},
		{Duration(90 * time.Minute), `"1h30m0s"`},
		{Duration(-2 * time.Second), `"-2s"`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.d)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%d) = %s, %v; want %s", tt.d, got, err, tt.want)
		}
		// Through a pointer and as a struct field too (value receiver).
		p, _ := json.Marshal(&tt.d)
		f, _ := json.Marshal(struct {
			D Duration `json:"d"`
		}{tt.d})
		if string(p) != tt.want || string(f) != `{"d":`+tt.want+`}` {
			t.Errorf("pointer %s, field %s; want %s", p, f, tt.want)
		}
	}
}

func TestDurationUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    Duration
		wantErr string
	}{
		{in: `"1.5s"`, want: Duration(1500 * time.Millisecond)},
		{in: `"1h30m"`, want: Duration(90 * time.Minute)},
		{in: `"0s"`, want: 0},
		{in: `"0"`, want: 0},
		{in: `"-3s"`, want: Duration(-3 * time.Second)},
		{in: `"1.5µs"`, want: Duration(1500)},
		{in: `"1.5us"`, want: Duration(1500)},
		{in: `"300ms"`, want: Duration(300 * time.Millisecond)},
		// Plain numbers are read as nanoseconds.
		{in: `1500`, want: Duration(1500)},
		{in: `-1`, want: Duration(-1)},
		{in: `0`, want: 0},
		{in: `"soon"`, wantErr: `history: duration: time: invalid duration "soon"`},
		{in: `"10"`, wantErr: "missing unit"},
		{in: `""`, wantErr: "history: duration"},
		{in: `1.5`, wantErr: "history: duration"},
		{in: `true`, wantErr: "history: duration"},
		{in: `{}`, wantErr: "history: duration"},
		{in: `"9999999999h"`, wantErr: "history: duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || d != tt.want {
				t.Fatalf("got %v, %v; want %v", d.D(), err, tt.want.D())
			}
		})
	}
}

func TestDurationRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, time.Microsecond + 1, time.Second / 3, 36 * time.Hour, -time.Minute, 1<<63 - 1, -1 << 63} {
		data, err := json.Marshal(Duration(d))
		if err != nil {
			t.Fatal(err)
		}
		var got Duration
		if err := json.Unmarshal(data, &got); err != nil || got.D() != d {
			t.Errorf("%v -> %s -> %v, %v", d, data, got.D(), err)
		}
	}
}
