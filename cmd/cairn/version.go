package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/nats-io/nats-server/v2/server"
)

// version is set at build time with
// -ldflags "-X main.version=v1.2.3"; otherwise it comes from the module
// build info ("dev" for builds inside the repository).
var version = ""

const versionUsage = `Usage:
  cairn version

Prints the cairn version, the Go version it was built with and the version
of the embedded nats-server used by 'cairn dev'.
`

func cmdVersion(args []string, stdout io.Writer) error {
	c := newCommand("cairn version", versionUsage, stdout)
	if err := c.parse(args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cairn %s (%s %s/%s)\n", cairnVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "embedded nats-server %s\n", server.VERSION)
	return nil
}

func cairnVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if modified == "true" {
			v += "-dirty"
		}
	}
	return v
}
