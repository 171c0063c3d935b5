package streams

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultClientName is the connection name Connect reports to the server.
const DefaultClientName = "cairn"

// EnvURL is the environment variable Connect reads when given no URL, as
// the NATS tools do.
const EnvURL = "NATS_URL"

// Connect dials url with defaults suited to long-lived cairn processes: it
// reconnects forever, 100ms apart, so clients ride out server restarts.
// opts are applied after the defaults and override them.
//
// url is one server URL or a comma-separated list of them, the nodes of a
// cluster ("nats://a:4222,nats://b:4222"): the connection tries them until
// one answers and, once connected, fails over to any node of the cluster,
// listed or announced by the server. An empty url means $NATS_URL, or
// nats.DefaultURL when that is not set either.
func Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	if url == "" {
		url = os.Getenv(EnvURL)
	}
	if url == "" {
		url = nats.DefaultURL
	}
	all := make([]nats.Option, 0, 3+len(opts))
	all = append(all,
		nats.Name(DefaultClientName),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond),
	)
	all = append(all, opts...)
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("streams: connect to %s: %w", url, err)
	}
	return nc, nil
}
