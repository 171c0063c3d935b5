package cloudevents

import (
	"bytes"
	"context"
	"io"
	"strings"

	cenats "github.com/cloudevents/sdk-go/protocol/nats/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/binding/spec"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"
)

// NATS binary content mode (CloudEvents NATS protocol binding 1.0.1, section
// 3.1): every context attribute is a header named "ce-" + attribute name,
// datacontenttype is the "content-type" header, and the body is the event
// data. The structured mode (section 3.2) is the official binding
// github.com/cloudevents/sdk-go/protocol/nats/v2, which predates headers in
// NATS and speaks structured mode only; this file adds the binary mode on
// the same sdk-go binding interfaces (binding.Message, binding.BinaryWriter),
// so encoding and decoding of attributes stays the SDK's.
const (
	natsHeaderPrefix      = "ce-"
	natsHeaderContentType = "content-type"
)

var natsSpecs = spec.WithPrefixMatchExact(func(name string) string {
	if name == "datacontenttype" {
		return natsHeaderContentType
	}
	return natsHeaderPrefix + name
}, natsHeaderPrefix)

// headerValue reads a NATS header case-insensitively: NATS headers are case
// sensitive, but publishers (and HTTP gateways in front of them) spell the
// CloudEvents headers "ce-type", "Ce-Type" or "CE-TYPE".
func headerValue(h nats.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

// IsBinaryNATS reports whether msg is a CloudEvent in binary content mode:
// it carries a ce-specversion header.
func IsBinaryNATS(msg *nats.Msg) bool {
	return headerValue(msg.Header, natsHeaderPrefix+"specversion") != ""
}

// NewNATSMessage wraps a NATS message as a binding.Message: binary mode if
// it has a ce-specversion header, otherwise structured mode through the
// official NATS protocol binding.
func NewNATSMessage(msg *nats.Msg) binding.Message {
	if IsBinaryNATS(msg) {
		return &binaryNATSMessage{msg: msg, version: natsSpecs.Version(headerValue(msg.Header, natsHeaderPrefix+"specversion"))}
	}
	return cenats.NewMessage(msg)
}

// EventFromNATS decodes the CloudEvent carried by msg (binary or structured
// mode) and validates its required attributes.
func EventFromNATS(ctx context.Context, msg *nats.Msg) (*event.Event, error) {
	ev, err := binding.ToEvent(ctx, NewNATSMessage(msg))
	if err != nil {
		return nil, err
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

// binaryNATSMessage is a binding.Message over a binary-mode NATS message.
type binaryNATSMessage struct {
	msg     *nats.Msg
	version spec.Version // nil: unknown specversion
}

var (
	_ binding.Message               = (*binaryNATSMessage)(nil)
	_ binding.MessageMetadataReader = (*binaryNATSMessage)(nil)
)

func (m *binaryNATSMessage) ReadEncoding() binding.Encoding {
	if m.version == nil {
		return binding.EncodingUnknown
	}
	return binding.EncodingBinary
}

func (m *binaryNATSMessage) ReadStructured(context.Context, binding.StructuredWriter) error {
	return binding.ErrNotStructured
}

func (m *binaryNATSMessage) ReadBinary(_ context.Context, w binding.BinaryWriter) error {
	if m.version == nil {
		return binding.ErrNotBinary
	}
	for k, vs := range m.msg.Header {
		if len(vs) == 0 {
			continue
		}
		key := strings.ToLower(k)
		if attr := m.version.Attribute(key); attr != nil {
			if err := w.SetAttribute(attr, vs[0]); err != nil {
				return err
			}
		} else if name, ok := strings.CutPrefix(key, natsHeaderPrefix); ok && name != "" {
			if err := w.SetExtension(name, vs[0]); err != nil {
				return err
			}
		}
	}
	if len(m.msg.Data) > 0 {
		return w.SetData(bytes.NewReader(m.msg.Data))
	}
	return nil
}

func (m *binaryNATSMessage) GetAttribute(k spec.Kind) (spec.Attribute, any) {
	if m.version == nil {
		return nil, nil
	}
	attr := m.version.AttributeFromKind(k)
	if attr == nil {
		return nil, nil
	}
	name := natsHeaderPrefix + attr.Name()
	if k == spec.DataContentType {
		name = natsHeaderContentType
	}
	if v := headerValue(m.msg.Header, name); v != "" {
		return attr, v
	}
	return attr, nil
}

func (m *binaryNATSMessage) GetExtension(name string) any {
	if v := headerValue(m.msg.Header, natsHeaderPrefix+name); v != "" {
		return v
	}
	return nil
}

func (m *binaryNATSMessage) Finish(error) error { return nil }

// natsMsgWriter writes a binding.Message into a NATS message: binary mode
// into headers and body, structured mode through the official binding's
// writer (the JSON event as body) plus a content-type header, so receivers
// can tell the modes apart without parsing.
type natsMsgWriter struct{ msg *nats.Msg }

var (
	_ binding.StructuredWriter = (*natsMsgWriter)(nil)
	_ binding.BinaryWriter     = (*natsMsgWriter)(nil)
)

func (w *natsMsgWriter) SetStructuredEvent(_ context.Context, f format.Format, ev io.Reader) error {
	b, err := io.ReadAll(ev)
	if err != nil {
		return err
	}
	w.msg.Header.Set(natsHeaderContentType, f.MediaType())
	w.msg.Data = b
	return nil
}

func (w *natsMsgWriter) Start(context.Context) error { return nil }
func (w *natsMsgWriter) End(context.Context) error   { return nil }

func (w *natsMsgWriter) SetAttribute(attr spec.Attribute, value any) error {
	name := natsHeaderPrefix + attr.Name()
	if attr.Kind() == spec.DataContentType {
		name = natsHeaderContentType
	}
	if value == nil {
		w.msg.Header.Del(name)
		return nil
	}
	s, err := types.Format(value)
	if err != nil {
		return err
	}
	w.msg.Header.Set(name, s)
	return nil
}

func (w *natsMsgWriter) SetExtension(name string, value any) error {
	if value == nil {
		w.msg.Header.Del(natsHeaderPrefix + name)
		return nil
	}
	s, err := types.Format(value)
	if err != nil {
		return err
	}
	w.msg.Header.Set(natsHeaderPrefix+strings.ToLower(name), s)
	return nil
}

func (w *natsMsgWriter) SetData(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	w.msg.Data = b
	return nil
}

// NewNATSMsg encodes ev as a NATS message on subject, in binary content mode
// if binary is true, else in structured mode (JSON event format).
func NewNATSMsg(ctx context.Context, subject string, ev *event.Event, binary bool) (*nats.Msg, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	msg := &nats.Msg{Subject: subject, Header: nats.Header{}}
	if !binary {
		// Structured mode is the official NATS protocol binding's.
		var buf bytes.Buffer
		if err := cenats.WriteMsg(binding.WithForceStructured(ctx), binding.ToMessage(ev), &buf); err != nil {
			return nil, err
		}
		msg.Header.Set(natsHeaderContentType, event.ApplicationCloudEventsJSON)
		msg.Data = buf.Bytes()
		return msg, nil
	}
	w := &natsMsgWriter{msg: msg}
	if _, err := binding.Write(binding.WithForceBinary(ctx), binding.ToMessage(ev), w, w); err != nil {
		return nil, err
	}
	return msg, nil
}
