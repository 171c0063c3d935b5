package workflow

import (
	"encoding/json"

	"github.com/cairnhq/cairn/internal/failconv"
	"github.com/cairnhq/cairn/internal/wf"
)

// Step runs fn inline, in the workflow worker, and records its outcome in
// history: replay returns the recorded result or error without running fn
// again (the checkpointed step of AWS Lambda durable functions). Use it for
// cheap local work with side effects or non-determinism; use an activity for
// anything that needs retries, timeouts or another process. name labels the
// step in history and must stay the same across versions of the code.
func Step[R any](ctx Context, name string, fn func() (R, error)) (R, error) {
	dc := wf.Converter(ctx)
	raw, f := wf.Exec(ctx).Step(name, func() (json.RawMessage, error) {
		r, err := fn()
		if err != nil {
			return nil, err
		}
		b, err := dc.ToPayload(r)
		return json.RawMessage(b), err
	})
	var out R
	if f != nil {
		return out, failconv.FromFailure(f)
	}
	if len(raw) > 0 {
		if err := dc.FromPayload(raw, &out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// SideEffect runs fn once and records its value; replay returns the
// recorded value. For values such as generated ids or configuration read at
// a point in time.
func SideEffect[R any](ctx Context, fn func() R) R {
	r, _ := Step(ctx, "SideEffect", func() (R, error) { return fn(), nil })
	return r
}

// Random returns a deterministic pseudo-random number, seeded per run.
func Random(ctx Context) uint64 { return wf.Exec(ctx).Random() }

// UUID returns a deterministic random (version 4) UUID.
func UUID(ctx Context) string {
	x := wf.Exec(ctx)
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		r := x.Random()
		for j := range 8 {
			b[i+j] = byte(r >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
