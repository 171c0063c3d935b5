// Package converter turns user values into the payload bytes that cairn
// stores in workflow history and sends on the wire, and back.
//
// Payloads are embedded verbatim in JSON history events and activity
// messages, so every DataConverter must produce valid JSON. A converter that
// transforms data in ways JSON cannot carry (encryption, compression) must
// wrap its output in a JSON value, for example a base64-encoded JSON string
// or an object such as {"enc":"aes-gcm","data":"<base64>"}.
//
// Imports: the standard library only. Every SDK and engine package may import
// converter; converter imports nothing from cairn.
package converter
