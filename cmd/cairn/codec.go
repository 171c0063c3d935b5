package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cairnhq/cairn/history"
	"github.com/cairnhq/cairn/sdk/client"
	"github.com/cairnhq/cairn/sdk/converter"
)

// envKeyFile names the payload encryption key file (--key-file), for the
// CLI and for the processes cairn runs itself (dev's demo worker, the
// server's ingress and service bindings).
const envKeyFile = "CAIRN_KEY_FILE"

const keyFileUsage = "payload encryption key `file`: encrypt the payloads sent and decrypt the ones shown (env " + envKeyFile + ")"

// codecFlags hold --key-file. globalFlags keeps a pointer to them so that
// every copy of the flags a command passes around sees the codec loaded
// when the command dialed.
type codecFlags struct {
	keyFile string
	codec   *converter.AESGCMCodec // loaded by dataConverter
}

// registerCodec adds --key-file. Like --server it is accepted before and
// after the command name, so it is registered on both flag sets.
func (g *globalFlags) registerCodec(fs *flag.FlagSet) {
	if g.codec == nil {
		g.codec = &codecFlags{keyFile: os.Getenv(envKeyFile)}
	}
	fs.StringVar(&g.codec.keyFile, "key-file", g.codec.keyFile, keyFileUsage)
}

// dataConverter returns the converter of the command's client: JSON, or
// JSON sealed with the key file's primary key. The CLI is a viewer, so it
// shows clear payloads (histories written before encryption was turned
// on) rather than refusing them as workers do.
func (c *codecFlags) dataConverter() (converter.DataConverter, error) {
	if c == nil || c.keyFile == "" {
		return converter.JSON(), nil
	}
	keys, err := converter.LoadKeyFile(c.keyFile)
	if err != nil {
		return nil, &cliError{err: err, msg: fmt.Sprintf("--key-file: %v", err)}
	}
	codec, err := converter.NewAESGCMCodec(keys, converter.AllowClearPayloads())
	if err != nil {
		return nil, &cliError{err: err, msg: fmt.Sprintf("--key-file: %v", err)}
	}
	c.codec = codec
	return converter.NewCodecDataConverter(converter.JSON(), codec), nil
}

// clientOption is the client option carrying the command's converter.
func (g *globalFlags) clientOption() (client.Option, error) {
	dc, err := g.codec.dataConverter()
	if err != nil {
		return nil, err
	}
	return client.WithDataConverter(dc), nil
}

// reveal returns a payload as the command shows it: decrypted when the key
// file opens it, else as stored for JSON output (an envelope is valid,
// self-describing JSON), or a marker naming the key for tables.
func (c *codecFlags) reveal(raw json.RawMessage, table bool) json.RawMessage {
	kid, ok := converter.EnvelopeKeyID(raw)
	if !ok {
		return raw
	}
	if c != nil && c.codec != nil {
		plain, err := c.codec.Decode(raw)
		if err == nil {
			return plain
		}
		if table {
			return json.RawMessage(fmt.Sprintf("[encrypted, key %q: %v]", kid, errors.Unwrap(err)))
		}
		return raw
	}
	if table {
		return json.RawMessage(fmt.Sprintf("[encrypted, key %q]", kid))
	}
	return raw
}

// noteEncrypted tells on stderr that a printed payload is still
// encrypted, so a script reading stdout is not left guessing.
func (c *codecFlags) noteEncrypted(stderr io.Writer, raw json.RawMessage) {
	if kid, ok := converter.EnvelopeKeyID(raw); ok {
		fmt.Fprintf(stderr, "note: the payload is encrypted with key %q; pass --key-file (or set %s) to decrypt it\n", kid, envKeyFile)
	}
}

// revealDescription decrypts the payloads of a description in place.
func (c *codecFlags) revealDescription(d *client.Description, table bool) {
	d.Result = c.reveal(d.Result, table)
	d.CustomStatus = c.reveal(d.CustomStatus, table)
}

// revealEvents decrypts the payloads of events in place, for the table of
// `workflow history`; --json exports events as stored, the form
// testenv.ReplayHistory replays with the same converter.
func (c *codecFlags) revealEvents(events []*history.Event) {
	for _, ev := range events {
		for _, p := range eventPayloads(ev) {
			*p = c.reveal(*p, true)
		}
	}
}

// eventPayloads points at the user payloads of an event: the values the
// DataConverter encoded. Everything else in an event is written by the
// engine and stays in clear.
func eventPayloads(ev *history.Event) []*json.RawMessage {
	switch a := ev.Attributes.(type) {
	case *history.WorkflowStarted:
		return []*json.RawMessage{&a.Input, &a.Memo}
	case *history.WorkflowCompleted:
		return []*json.RawMessage{&a.Result}
	case *history.WorkflowContinuedAsNew:
		return []*json.RawMessage{&a.Input, &a.Memo}
	case *history.ActivityScheduled:
		return []*json.RawMessage{&a.Input}
	case *history.ActivityCompleted:
		return []*json.RawMessage{&a.Result}
	case *history.StepCompleted:
		return []*json.RawMessage{&a.Result}
	case *history.SignalReceived:
		return []*json.RawMessage{&a.Payload}
	case *history.StatusSet:
		return []*json.RawMessage{&a.Status}
	case *history.CallbackCompleted:
		return []*json.RawMessage{&a.Result}
	case *history.ChildWorkflowScheduled:
		return []*json.RawMessage{&a.Input}
	case *history.ChildWorkflowCompleted:
		return []*json.RawMessage{&a.Result}
	}
	return nil
}

// processKeyFileUsage describes --key-file of cairn dev and cairn server.
const processKeyFileUsage = "payload encryption key `file` of the CloudEvents ingress, the service bindings and the demo worker (env " + envKeyFile + ")"

// registerProcessKeyFile registers --key-file into p on a command that runs
// cairn's own payload handlers, defaulting to CAIRN_KEY_FILE.
func registerProcessKeyFile(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "key-file", os.Getenv(envKeyFile), processKeyFileUsage)
}

// processConverter returns the converter of the payload handlers cairn
// runs itself (dev's demo worker, the server's ingress and service
// bindings), nil without a key file. Like any worker they refuse clear
// payloads: they run in production next to the application's workers and
// must follow the same rule.
func processConverter(keyFile string) (converter.DataConverter, error) {
	if keyFile == "" {
		return nil, nil
	}
	keys, err := converter.LoadKeyFile(keyFile)
	if err != nil {
		return nil, &cliError{err: err, msg: fmt.Sprintf("--key-file: %v", err)}
	}
	dc, err := converter.NewEncryptingDataConverter(keys)
	if err != nil {
		return nil, &cliError{err: err, msg: fmt.Sprintf("--key-file: %v", err)}
	}
	return dc, nil
}

// withConverter appends the option setting dc, if any, to opts.
func withConverter[O any](opts []O, dc converter.DataConverter, option func(converter.DataConverter) O) []O {
	if dc == nil {
		return opts
	}
	return append(opts, option(dc))
}
