package activities

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// validPayload accepts an empty body (no value) or a JSON document.
func validPayload(data []byte) bool {
	return len(bytes.TrimSpace(data)) == 0 || json.Valid(data)
}

// headerParser collects the first error while reading headers, so parse
// functions read as a list of fields rather than a ladder of ifs.
type headerParser struct {
	h         nats.Header
	malformed error
	err       error
}

func (p *headerParser) fail(key, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: header %s: %s", p.malformed, key, fmt.Sprintf(format, args...))
	}
}

func (p *headerParser) protocol() error {
	switch v := p.h.Get(HeaderProtocol); v {
	case ProtocolVersion:
		return nil
	case "":
		return fmt.Errorf("%w: header %s: missing", p.malformed, HeaderProtocol)
	default:
		return fmt.Errorf("%w: %s is %q, this worker speaks %q", ErrUnsupportedProtocol, HeaderProtocol, v, ProtocolVersion)
	}
}

func (p *headerParser) required(key string) string {
	v := p.h.Get(key)
	if v == "" {
		p.fail(key, "missing")
	}
	return v
}

// positiveInt reads a required integer >= 1.
func (p *headerParser) positiveInt(key string) int {
	v := p.h.Get(key)
	if v == "" {
		p.fail(key, "missing")
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		p.fail(key, "%q is not a positive decimal integer", v)
		return 0
	}
	return n
}

// count reads an optional non-negative integer; absent means 0.
func (p *headerParser) count(key string) int {
	v := p.h.Get(key)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(key, "%q is not a non-negative decimal integer", v)
		return 0
	}
	return n
}

func (p *headerParser) time(key string, required bool) time.Time {
	v := p.h.Get(key)
	if v == "" {
		if required {
			p.fail(key, "missing")
		}
		return time.Time{}
	}
	ts, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.fail(key, "%q is not an RFC 3339 timestamp", v)
		return time.Time{}
	}
	// Messages carry times in UTC; an offset that moves the instant out of
	// years 0000-9999 there would be re-sent in a form no parser reads.
	if y := ts.UTC().Year(); y < 0 || y > 9999 {
		p.fail(key, "%q is outside years 0000-9999 in UTC", v)
		return time.Time{}
	}
	return ts
}

// duration reads an optional timeout; "0s" means none, like an absent header.
func (p *headerParser) duration(key string) time.Duration {
	v := p.h.Get(key)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.fail(key, "%q is not a non-negative Go duration", v)
		return 0
	}
	return d
}

// subject reads a header that names a subject to publish to. Wildcards and
// whitespace would make the publish fail forever, so they are rejected here.
func (p *headerParser) subject(key string) string {
	v := p.required(key)
	if v == "" {
		return ""
	}
	return p.validSubject(key, v)
}

// optionalSubject reads a header that may name a subject to publish to.
func (p *headerParser) optionalSubject(key string) string {
	v := p.h.Get(key)
	if v == "" {
		return ""
	}
	return p.validSubject(key, v)
}

func (p *headerParser) validSubject(key, v string) string {
	if strings.ContainsAny(v, " \t*>") || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, "..") {
		p.fail(key, "%q is not a valid subject", v)
		return ""
	}
	return v
}
