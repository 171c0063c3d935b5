package testutil

import (
	"bytes"
	"sort"
)

// NATSWireHeader is the NATS wire form of a message's headers (a
// nats.Header), keys sorted so that fuzz seeds built from it are stable.
func NATSWireHeader(h map[string][]string) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("NATS/1.0\r\n")
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}
