package cloudevents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"text/template"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/streams"
)

// Trigger kinds.
const (
	// KindStart starts a workflow run per matching event.
	KindStart = "start"
	// KindSignal raises an external event on a running workflow.
	KindSignal = "signal"
)

// Reuse policies of a start trigger, by name.
const (
	ReuseReject     = "reject"
	ReuseAllow      = "allow"
	ReuseFailedOnly = "failed-only"
)

// Trigger maps matching CloudEvents to a workflow: a start trigger starts a
// run of WorkflowType for each event, a signal trigger raises the event on a
// running instance. Triggers are stored in the namespace's triggers bucket
// (Store) and declared in a file or with `cairn trigger add`.
type Trigger struct {
	// Name identifies the trigger: [A-Za-z0-9_-]{1,64}. It is the key in
	// the triggers bucket and is part of derived workflow ids.
	Name string `json:"name"`
	// Kind is KindStart (default) or KindSignal.
	Kind string `json:"kind,omitempty"`

	// Type matches the event type exactly; TypePrefix matches every type
	// starting with it. Exactly one of them is set.
	Type       string `json:"type,omitempty"`
	TypePrefix string `json:"typePrefix,omitempty"`
	// Source and Subject, when set, must equal the event's attributes.
	Source  string `json:"source,omitempty"`
	Subject string `json:"subject,omitempty"`

	// WorkflowType is the workflow to start (start triggers).
	WorkflowType string `json:"workflowType,omitempty"`
	// TaskQueue routes the run (default "default").
	TaskQueue string `json:"taskQueue,omitempty"`
	// WorkflowID is a text/template over the event (see TemplateData)
	// giving the workflow id. Empty: for a start trigger, an id derived
	// from the trigger name and the event's source and id, so a
	// re-delivered event never starts a second run; for a signal trigger,
	// the event's subject attribute.
	WorkflowID string `json:"workflowId,omitempty"`
	// InputField selects a field of the (JSON) event data as the workflow
	// input or signal payload: a dot-separated path such as "order" or
	// "order.lines". Empty: the whole data.
	InputField string `json:"inputField,omitempty"`
	// ReusePolicy applies to start triggers with a WorkflowID template when
	// the id's last run is closed: "reject" (default; the event is a
	// duplicate), "allow" or "failed-only". Derived ids always reject.
	ReusePolicy string `json:"reusePolicy,omitempty"`

	// SignalName is the external event raised by a signal trigger (what
	// the workflow waits for with workflow.ReceiveSignal).
	SignalName string `json:"signalName,omitempty"`

	idTmpl *template.Template
}

// ErrInvalidTrigger reports a trigger that cannot be used.
var ErrInvalidTrigger = errors.New("invalid trigger")

// Validate checks t and compiles its template. It fills in defaults.
func (t *Trigger) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidTrigger, t.Name, fmt.Sprintf(format, args...))
	}
	if err := validateName(t.Name); err != nil {
		return fmt.Errorf("%w: name %q: must match [A-Za-z0-9_-]{1,64}", ErrInvalidTrigger, t.Name)
	}
	if t.Kind == "" {
		t.Kind = KindStart
	}
	if (t.Type == "") == (t.TypePrefix == "") {
		return fail("set exactly one of type and typePrefix")
	}
	if t.TaskQueue == "" {
		t.TaskQueue = "default"
	}
	switch t.Kind {
	case KindStart:
		if t.WorkflowType == "" {
			return fail("a start trigger needs workflowType")
		}
		if err := streams.ValidateQueue(t.TaskQueue); err != nil {
			return fail("taskQueue %q: must match [A-Za-z0-9_-]{1,64}", t.TaskQueue)
		}
		if t.SignalName != "" {
			return fail("signalName is for signal triggers")
		}
		if t.ReusePolicy == "" {
			t.ReusePolicy = ReuseReject
		}
		if _, err := reusePolicy(t.ReusePolicy); err != nil {
			return fail("%v", err)
		}
	case KindSignal:
		if t.SignalName == "" {
			return fail("a signal trigger needs signalName")
		}
		if t.WorkflowType != "" {
			return fail("workflowType is for start triggers (a signal goes to a running workflow of any type)")
		}
	default:
		return fail("kind %q: want %q or %q", t.Kind, KindStart, KindSignal)
	}
	if t.InputField != "" {
		for _, p := range strings.Split(t.InputField, ".") {
			if p == "" {
				return fail("inputField %q: empty path element", t.InputField)
			}
		}
	}
	if t.WorkflowID != "" {
		tmpl, err := template.New(t.Name).Option("missingkey=error").Parse(t.WorkflowID)
		if err != nil {
			return fail("workflowId template: %v", err)
		}
		t.idTmpl = tmpl
	}
	return nil
}

func reusePolicy(s string) (client.WorkflowIDReusePolicy, error) {
	switch s {
	case ReuseReject, "":
		return client.WorkflowIDReusePolicyRejectDuplicate, nil
	case ReuseAllow:
		return client.WorkflowIDReusePolicyAllowDuplicate, nil
	case ReuseFailedOnly:
		return client.WorkflowIDReusePolicyAllowDuplicateFailedOnly, nil
	}
	return 0, fmt.Errorf("reusePolicy %q: want %q, %q or %q", s, ReuseReject, ReuseAllow, ReuseFailedOnly)
}

func validateName(s string) error {
	// Same alphabet as namespaces and queues.
	return streams.ValidateQueue(s)
}

// Matches reports whether ev matches the trigger's filters.
func (t *Trigger) Matches(ev *event.Event) bool {
	switch {
	case t.Type != "" && ev.Type() != t.Type:
		return false
	case t.TypePrefix != "" && !strings.HasPrefix(ev.Type(), t.TypePrefix):
		return false
	case t.Source != "" && ev.Source() != t.Source:
		return false
	case t.Subject != "" && ev.Subject() != t.Subject:
		return false
	}
	return true
}

// EventKey is a stable digest of an event's identity (source and id, which
// CloudEvents makes unique per event) under a trigger: the basis of derived
// workflow ids, start request ids and signal ids.
func EventKey(trigger, source, id string) string {
	h := sha256.New()
	for _, s := range []string{trigger, source, id} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// DerivedWorkflowID is the workflow id a start trigger without a WorkflowID
// template gives an event: "<trigger>-<digest of source and id>".
func DerivedWorkflowID(trigger, source, id string) string {
	return trigger + "-" + EventKey(trigger, source, id)
}

// TemplateData is what a WorkflowID template sees: the context attributes
// by name (id, source, type, subject, time, specversion, datacontenttype,
// dataschema), "extensions" (a map by extension name) and "data" (the
// decoded JSON data, if any). Examples: {{.subject}},
// {{.extensions.orderid}}, order-{{.data.id}}.
func TemplateData(ev *event.Event, data any) map[string]any {
	m := map[string]any{
		"id":              ev.ID(),
		"source":          ev.Source(),
		"type":            ev.Type(),
		"subject":         ev.Subject(),
		"specversion":     ev.SpecVersion(),
		"datacontenttype": ev.DataContentType(),
		"dataschema":      ev.DataSchema(),
		"extensions":      ev.Extensions(),
		"data":            data,
	}
	if !ev.Time().IsZero() {
		m["time"] = ev.Time().UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
	} else {
		m["time"] = ""
	}
	return m
}

// workflowID resolves the id of the workflow the event goes to.
func (t *Trigger) workflowID(ev *event.Event, data any) (string, error) {
	if t.idTmpl == nil {
		if t.Kind == KindSignal {
			if ev.Subject() == "" {
				return "", errors.New("the event has no subject attribute to name the workflow, and the trigger has no workflowId template")
			}
			return ev.Subject(), nil
		}
		return DerivedWorkflowID(t.Name, ev.Source(), ev.ID()), nil
	}
	var b bytes.Buffer
	if err := t.idTmpl.Execute(&b, TemplateData(ev, data)); err != nil {
		return "", fmt.Errorf("workflowId template: %v", err)
	}
	id := strings.TrimSpace(b.String())
	if id == "" || id == "<no value>" {
		return "", errors.New("workflowId template gave an empty id")
	}
	return id, nil
}

// isJSONContentType accepts the media types whose data is JSON; empty
// means unspecified (treated as JSON, as the CloudEvents JSON format does).
func isJSONContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// eventData returns the event's data as JSON (nil when it has none) and its
// decoded value, or an error if it is not JSON.
func eventData(ev *event.Event) (json.RawMessage, any, error) {
	raw := ev.Data()
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, nil
	}
	if !isJSONContentType(ev.DataContentType()) {
		return nil, nil, fmt.Errorf("datacontenttype %q is not JSON; workflow inputs and signal payloads are JSON", ev.DataContentType())
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil || dec.More() {
		if err == nil {
			err = errors.New("trailing data after the JSON value")
		}
		return nil, nil, fmt.Errorf("data is not valid JSON: %v", err)
	}
	return json.RawMessage(raw), v, nil
}

// input selects the workflow input (or signal payload) from the data.
func (t *Trigger) input(raw json.RawMessage, data any) (json.RawMessage, error) {
	if t.InputField == "" {
		if raw == nil {
			return json.RawMessage("null"), nil
		}
		return raw, nil
	}
	cur := data
	for _, p := range strings.Split(t.InputField, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("inputField %q: data is not an object at %q", t.InputField, p)
		}
		if cur, ok = obj[p]; !ok {
			return nil, fmt.Errorf("inputField %q: data has no field %q", t.InputField, p)
		}
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("inputField %q: %v", t.InputField, err)
	}
	return b, nil
}
