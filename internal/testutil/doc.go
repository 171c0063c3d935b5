// Package testutil holds helpers shared by this module's tests, so that
// every test waits on conditions the same way: polling with a short
// backoff, bounded in time, failing with the last reason the condition gave.
// Tests never synchronise with a bare sleep.
//
// It imports only the standard library; nothing but _test.go files and
// test tooling imports it.
package testutil
