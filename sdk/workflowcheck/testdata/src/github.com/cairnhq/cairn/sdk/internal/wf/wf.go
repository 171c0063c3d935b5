// Package wf is a stub of the SDK's internal package, where the workflow
// context type is defined.
package wf

// Context is the workflow context.
type Context interface {
	Err() error
	Value(key any) any
}
