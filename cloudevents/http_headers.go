package cloudevents

import (
	"mime"
	"net/http"
	"strings"
)

// requiredAttributes must be present, non-empty, in a binary-mode request.
var requiredAttributes = []string{"specversion", "id", "source", "type"}

// checkHTTPHeaders validates the CloudEvents headers of a request before
// the SDK reads them: the SDK indexes header names without checking their
// length (a header named "Ce-" panics it) and takes an empty specversion
// for "not a CloudEvent" rather than a malformed one. It returns nil for a
// request the SDK can safely decode.
func checkHTTPHeaders(h http.Header) *Rejection {
	seen := map[string]bool{}
	for k, vs := range h {
		name, ok := cutPrefixFold(k, "ce-")
		if !ok {
			continue
		}
		if name == "" {
			return reject(CodeInvalid, "a header named %q carries no attribute name", k)
		}
		if !validAttributeName(name) {
			return reject(CodeInvalid, "header %q: CloudEvents attribute names are lowercase letters and digits", k)
		}
		if len(vs) != 1 {
			return reject(CodeInvalid, "header %q is given %d times; an attribute has one value", k, len(vs))
		}
		if strings.TrimSpace(vs[0]) == "" {
			return reject(CodeInvalid, "header %q is empty", k)
		}
		seen[strings.ToLower(name)] = true
	}
	if !binaryMode(h) {
		return nil
	}
	var missing []string
	for _, a := range requiredAttributes {
		if !seen[a] {
			missing = append(missing, "Ce-"+a)
		}
	}
	if len(missing) > 0 {
		return reject(CodeInvalid, "binary mode needs the headers %s; missing: %s (structured mode: Content-Type %s)",
			"Ce-specversion, Ce-id, Ce-source and Ce-type", strings.Join(missing, ", "), "application/cloudevents+json")
	}
	return nil
}

// binaryMode reports whether a request is in binary content mode: its
// content type is not a structured or batch CloudEvents one.
func binaryMode(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return true
	}
	return !strings.HasPrefix(mt, "application/cloudevents")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// validAttributeName follows CloudEvents 1.0: lowercase ASCII letters and
// digits. HTTP header names are case-insensitive, so case is ignored.
func validAttributeName(name string) bool {
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
