package streams

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultClientName is the connection name Connect reports to the server.
const DefaultClientName = "cairn"

// Connect dials url with defaults suited to long-lived cairn processes: it
// reconnects forever, 100ms apart, so clients ride out server restarts.
// opts are applied after the defaults and override them.
func Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
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
