package telemetry

import "testing"

// Fuzz target of the trace context taken from messages: traceparent and
// tracestate headers come from whoever published a task, a result or an
// event. .ci/fuzz runs it.

// FuzzParseTraceParent checks that a traceparent either yields no span
// context or a valid one that FormatSpanContext writes back into headers
// parsing to the same span context.
func FuzzParseTraceParent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "vendor=x,other=y")
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "")
	f.Add("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	f.Add("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "a=b")
	f.Add("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "")
	f.Fuzz(func(t *testing.T, traceParent, traceState string) {
		sc, ok := ParseTraceParent(traceParent, traceState)
		if !ok {
			return
		}
		if !sc.IsValid() || !sc.IsRemote() {
			t.Fatalf("ParseTraceParent(%q) accepted an invalid or local span context %+v", traceParent, sc)
		}
		tp, ts := FormatSpanContext(sc)
		again, ok := ParseTraceParent(tp, ts)
		if !ok || !again.Equal(sc) {
			t.Fatalf("ParseTraceParent(%q, %q) = %+v, written %q %q it parses to %+v", traceParent, traceState, sc, tp, ts, again)
		}
	})
}
