//go:build !unix

package main

// lockDataDir is a no-op where flock is unavailable: do not run two
// 'cairn dev' processes on one data directory there.
func lockDataDir(dir string) (unlock func(), err error) { return func() {}, nil }
