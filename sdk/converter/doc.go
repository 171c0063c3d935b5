// Package converter turns user values into the payload bytes that cairn
// stores in workflow history and sends on the wire, and back.
//
// Payloads are embedded verbatim in JSON history events and activity
// messages, so every DataConverter must produce valid JSON. A converter that
// transforms data in ways JSON cannot carry (encryption, compression) must
// wrap its output in a JSON value, for example a base64-encoded JSON string
// or an object such as {"enc":"aes-gcm","data":"<base64>"}.
//
// Encryption is such a wrapper: NewCodecDataConverter runs PayloadCodecs
// after a DataConverter, and AESGCMCodec seals each payload with
// AES-256-GCM under the primary key of a key set loaded with LoadKeyFile,
// into a versioned JSON envelope that names its key. Give the same
// converter to every worker and client of a namespace
// (worker.WithDataConverter, client.WithDataConverter); the engine never
// reads payloads, so it needs no key. docs/security.md says what is
// encrypted and what stays in clear.
//
// Imports: the standard library only (crypto/aes and crypto/cipher for
// encryption). Every SDK and engine package may import
// converter; converter imports nothing from cairn.
package converter
