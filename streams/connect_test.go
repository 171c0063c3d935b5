package streams

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestConnectURLList: a comma-separated list (spaces allowed) connects to a
// live server of it, and an empty URL reads NATS_URL. Not parallel: it sets
// the environment.
func TestConnectURLList(t *testing.T) {
	s := startTestServer(t, "")
	for _, url := range []string{
		s.ClientURL(),
		"nats://127.0.0.1:1," + s.ClientURL(),
		" nats://127.0.0.1:1 , " + s.ClientURL() + " ,",
	} {
		nc, err := Connect(url)
		if err != nil {
			t.Fatalf("Connect(%q): %v", url, err)
		}
		if nc.ConnectedUrl() != s.ClientURL() {
			t.Errorf("Connect(%q) connected to %s", url, nc.ConnectedUrl())
		}
		nc.Close()
	}

	t.Setenv(EnvURL, "nats://127.0.0.1:1,"+s.ClientURL())
	nc, err := Connect("")
	if err != nil {
		t.Fatalf("Connect with %s: %v", EnvURL, err)
	}
	nc.Close()

	t.Setenv(EnvURL, "nats://127.0.0.1:1")
	if _, err := Connect(""); !errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("Connect to a dead %s: %v", EnvURL, err)
	}
}
