package converter

import "fmt"

// PayloadCodec transforms payloads after a DataConverter has encoded them
// and before it decodes them: encryption, compression. It is the
// counterpart of Temporal's converter.PayloadCodec, applied to cairn's
// single-document JSON payloads.
//
// Encode must return valid JSON (payloads are embedded verbatim in JSON
// history and wire messages) and Decode must invert it. Both must be safe
// for concurrent use.
type PayloadCodec interface {
	// Encode transforms an encoded payload for storage.
	Encode(payload []byte) ([]byte, error)
	// Decode restores a payload that Encode produced.
	Decode(payload []byte) ([]byte, error)
}

// NewCodecDataConverter returns a DataConverter that encodes values with
// parent and then runs the codecs, the last one first, so codecs[0] is the
// outermost layer; decoding runs them in the opposite order. This is the
// order of Temporal's NewCodecDataConverter.
func NewCodecDataConverter(parent DataConverter, codecs ...PayloadCodec) DataConverter {
	return &codecConverter{parent: parent, codecs: append([]PayloadCodec(nil), codecs...)}
}

type codecConverter struct {
	parent DataConverter
	codecs []PayloadCodec
}

func (c *codecConverter) ToPayload(v any) ([]byte, error) {
	b, err := c.parent.ToPayload(v)
	if err != nil {
		return nil, err
	}
	for i := len(c.codecs) - 1; i >= 0; i-- {
		if b, err = c.codecs[i].Encode(b); err != nil {
			return nil, fmt.Errorf("converter: encode %T: %w", v, err)
		}
	}
	return b, nil
}

func (c *codecConverter) FromPayload(data []byte, ptr any) error {
	var err error
	for _, codec := range c.codecs {
		if data, err = codec.Decode(data); err != nil {
			return fmt.Errorf("converter: decode into %T: %w", ptr, err)
		}
	}
	return c.parent.FromPayload(data, ptr)
}
