package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cluster defaults.
const (
	// DefaultClusterName is the NATS cluster name of StartCluster.
	DefaultClusterName = "cairn"
	// defaultNodePrefix names the nodes node-1, node-2, ...
	defaultNodePrefix = "node"
	// clusterReadyTimeout bounds how long StartCluster and RestartNode wait
	// for the JetStream meta group to have a leader and the nodes to be
	// current. A fresh cluster elects its first leader within seconds.
	clusterReadyTimeout = 60 * time.Second
	// portAttempts bounds how often StartCluster picks new free ports when
	// one was taken between being picked and being bound.
	portAttempts = 5
)

// Cluster is a JetStream cluster of embedded nats-servers in this process,
// one per node, on free ports of the host (127.0.0.1 unless WithHost says
// otherwise). Each node has its own store directory under the data
// directory (node-1, node-2, ...) and keeps its client and route ports for
// life, so a stopped node restarts on the same ports and data and rejoins.
//
// The nodes reach each other through proxies of the cluster, one per
// ordered pair of nodes, so that KillNode can cut a node off before it
// stops, as a crash or a network partition would.
//
// Its methods are safe for concurrent use. Nodes are numbered from 0 in
// the API; their names (and directories) count from 1.
type Cluster struct {
	base   serverConfig
	prefix string

	mu      sync.Mutex
	nodes   []*clusterNode
	proxies map[[2]int]*routeProxy // [dialing node, target node]
}

type clusterNode struct {
	cfg serverConfig // name, data dir, ports and routes: fixed after start
	url string       // client URL, known once the node has started
	srv *Server      // nil while stopped
}

// StartCluster starts an n-node JetStream cluster (n ≥ 2; odd sizes keep a
// quorum with the most nodes down: 3 nodes survive the loss of one, 5 of
// two) and waits until it has elected a JetStream meta leader and every
// node is current and healthy (the streams and consumers of a restarted
// cluster have leaders), at most a minute or until ctx ends.
//
// The options are those of StartServer, applied to every node, except:
// WithDataDir is the parent of the nodes' directories; WithPort is the
// client port of node 0 (the default, -1, and the other nodes' ports are
// free ports); WithServerName is the prefix of the node names (default
// "node"). Route ports are always free ports. On any failure every started
// node is shut down and the error wraps ErrServerStart.
func StartCluster(ctx context.Context, n int, opts ...ServerOption) (*Cluster, error) {
	if n < 2 {
		return nil, fmt.Errorf("%w: a cluster needs at least 2 nodes, not %d", ErrServerStart, n)
	}
	base := defaultServerConfig()
	for _, opt := range opts {
		opt(&base)
	}
	if base.dataDir == "" {
		return nil, fmt.Errorf("%w: a data directory is required (WithDataDir)", ErrServerStart)
	}
	c := &Cluster{base: base, prefix: base.name}
	if c.prefix == "" {
		c.prefix = defaultNodePrefix
	}
	var err error
	for attempt := 1; attempt <= portAttempts; attempt++ {
		if err = c.configure(n); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrServerStart, err)
		}
		if err = c.startAll(ctx); err == nil {
			break
		}
		c.Shutdown()
		// Another process may have bound a free port between our pick
		// and the server's bind: pick again. A port the caller fixed
		// that is taken stays taken.
		if !errors.Is(err, errListen) || (base.port > 0 && !portFree(base.host, base.port)) {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, -1); err != nil {
		c.Shutdown()
		return nil, fmt.Errorf("%w: %w", ErrServerStart, err)
	}
	return c, nil
}

// errListen marks a start that failed because a port could not be bound.
var errListen = errors.New("listen failed")

// configure picks the ports of n nodes and derives every node's
// configuration.
func (c *Cluster) configure(n int) error {
	clientPorts := make([]int, n)
	routePorts := make([]int, n)
	routes := make([]*url.URL, n)
	for i := range n {
		var err error
		if i == 0 && c.base.port > 0 {
			clientPorts[i] = c.base.port
		} else if clientPorts[i], err = freePort(c.base.host); err != nil {
			return err
		}
		if routePorts[i], err = freePort(c.base.host); err != nil {
			return err
		}
		routes[i] = &url.URL{Scheme: "nats-route", Host: net.JoinHostPort(dialHost(c.base.host), strconv.Itoa(routePorts[i]))}
	}
	// Each node dials the others through a proxy of its own per target,
	// and itself directly (a server recognises and drops a route to
	// itself). Every node lists as many routes as there are nodes, which
	// is how many JetStream peers it expects.
	proxies := map[[2]int]*routeProxy{}
	fail := func(err error) error {
		for _, p := range proxies {
			p.close()
		}
		return err
	}
	nodeRoutes := make([][]*url.URL, n)
	for d := range n {
		for t := range n {
			if d == t {
				nodeRoutes[d] = append(nodeRoutes[d], routes[t])
				continue
			}
			p, err := newRouteProxy(dialHost(c.base.host), routes[t].Host)
			if err != nil {
				return fail(fmt.Errorf("route proxy: %w", err))
			}
			proxies[[2]int{d, t}] = p
			nodeRoutes[d] = append(nodeRoutes[d], &url.URL{Scheme: "nats-route", Host: p.addr()})
		}
	}
	// A server also dials the route address other servers gossip about a
	// third one it has no route to yet; that connection would bypass the
	// proxies. Each node gossips a port nobody listens on, so such a dial
	// fails (once: gossiped routes are not retried) and the configured
	// routes, through the proxies, are the only ones.
	advertise := make([]string, n)
	for i := range n {
		port, err := freePort(c.base.host)
		if err != nil {
			return fail(err)
		}
		advertise[i] = net.JoinHostPort(dialHost(c.base.host), strconv.Itoa(port))
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes = make([]*clusterNode, n)
	c.proxies = proxies
	for i := range n {
		cfg := c.base
		cfg.name = c.prefix + "-" + strconv.Itoa(i+1)
		cfg.dataDir = filepath.Join(c.base.dataDir, cfg.name)
		cfg.port = clientPorts[i]
		cfg.clusterName = DefaultClusterName
		cfg.routePort = routePorts[i]
		cfg.routes = nodeRoutes[i]
		cfg.routeAdvertise = advertise[i]
		c.nodes[i] = &clusterNode{cfg: cfg}
	}
	return nil
}

// startAll starts every node; it does not wait for the meta group.
func (c *Cluster) startAll(ctx context.Context) error {
	for i := range c.Size() {
		if err := c.startNode(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) startNode(ctx context.Context, i int) error {
	c.mu.Lock()
	nd := c.nodes[i]
	if nd.srv != nil {
		c.mu.Unlock()
		return fmt.Errorf("embedded: node %d (%s) is already running", i, nd.cfg.name)
	}
	cfg := nd.cfg
	c.mu.Unlock()

	srv, err := startServer(ctx, cfg)
	if err != nil {
		if strings.Contains(err.Error(), "Error listening") {
			err = fmt.Errorf("%w (%w)", err, errListen)
		}
		return fmt.Errorf("node %s: %w", cfg.name, err)
	}
	c.mu.Lock()
	nd.srv = srv
	nd.url = srv.ClientURL()
	c.mu.Unlock()
	return nil
}

// waitReady waits until a running node is the meta leader, the leader
// knows every node as a peer and every running node is current and healthy
// (node ≥ 0: only that node must be, after its restart).
func (c *Cluster) waitReady(ctx context.Context, node int) error {
	deadline := time.Now().Add(clusterReadyTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		why := c.notReady(node)
		if why == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not ready after %v: %s", clusterReadyTimeout, why)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready (%s): %w", why, ctx.Err())
		case <-tick.C:
		}
	}
}

// notReady says why the cluster is not ready yet, or "" when it is.
func (c *Cluster) notReady(node int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var leader *Server
	for _, nd := range c.nodes {
		if nd.srv != nil && nd.srv.inner.JetStreamIsLeader() {
			leader = nd.srv
		}
	}
	if leader == nil {
		return "no JetStream meta leader"
	}
	if node < 0 {
		if peers := len(leader.inner.JetStreamClusterPeers()); peers != len(c.nodes) {
			return fmt.Sprintf("meta leader %s knows %d of %d peers", leader.inner.Name(), peers, len(c.nodes))
		}
	}
	for i, nd := range c.nodes {
		if (node >= 0 && i != node) || nd.srv == nil {
			continue
		}
		if !nd.srv.inner.JetStreamIsCurrent() {
			return fmt.Sprintf("node %s is not current with the meta leader", nd.cfg.name)
		}
		// The health check of a node is what orchestrators probe before
		// sending it traffic: every stream and consumer it holds has a
		// leader and is caught up. After a restart of the whole cluster
		// their groups elect leaders only now.
		if h := nd.srv.inner.Healthz(nil); h.StatusCode != http.StatusOK {
			return fmt.Sprintf("node %s is not healthy: %s", nd.cfg.name, h.Error)
		}
	}
	return ""
}

// Size is the number of nodes, running or not.
func (c *Cluster) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// ClientURLs returns the client URLs of every node, running or not,
// comma-separated: the form nats.Connect and cairn's --server flags take.
func (c *Cluster) ClientURLs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	urls := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		urls[i] = nd.url
	}
	return strings.Join(urls, ",")
}

// Node returns node i's server, or nil while it is stopped.
func (c *Cluster) Node(i int) *Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].srv
}

// NodeName returns node i's server name (node-<i+1> by default), which
// JetStream reports as stream and consumer leaders and replicas.
func (c *Cluster) NodeName(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].cfg.name
}

// StopNode shuts node i down as nats-server does on SIGTERM: it hands
// over the leadership of the raft groups it leads, flushes its store and
// closes its connections; clients reconnect to the other nodes. It waits
// until the node has stopped; stopping a stopped node is a no-op.
func (c *Cluster) StopNode(i int) {
	c.mu.Lock()
	srv := c.nodes[i].srv
	c.nodes[i].srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
	}
}

// KillNode cuts node i off from the other nodes, then shuts it down: the
// others see it vanish without the handover of StopNode, as after a crash
// of its process or a network partition, and elect new leaders for what it
// led once they miss its heartbeats (nats-server's election timeout is 4 to
// 9 seconds). Its clients are disconnected. RestartNode brings it back.
func (c *Cluster) KillNode(i int) {
	c.cutNode(i, true)
	c.StopNode(i)
}

// cutNode cuts or restores every route connection of node i.
func (c *Cluster) cutNode(i int, cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for pair, p := range c.proxies {
		if pair[0] == i || pair[1] == i {
			p.setCut(cut)
		}
	}
}

// RestartNode starts stopped node i again on its ports and data, and
// waits until it has caught up with the JetStream meta group and is
// healthy: its replicas of every stream and consumer have caught up. It
// fails if another process took one of the node's ports.
func (c *Cluster) RestartNode(ctx context.Context, i int) error {
	c.cutNode(i, false)
	if err := c.startNode(ctx, i); err != nil {
		return fmt.Errorf("%w: %w", ErrServerStart, err)
	}
	if err := c.waitReady(ctx, i); err != nil {
		return fmt.Errorf("embedded: restart node %d: %w", i, err)
	}
	return nil
}

// Shutdown stops every running node, concurrently, waits until they have
// stopped, and closes the route proxies: the cluster cannot be restarted.
// Calling it again is a no-op.
func (c *Cluster) Shutdown() {
	var wg sync.WaitGroup
	for i := range c.Size() {
		wg.Go(func() { c.StopNode(i) })
	}
	wg.Wait()
	c.mu.Lock()
	proxies := c.proxies
	c.proxies = nil
	c.mu.Unlock()
	for _, p := range proxies {
		p.close()
	}
}

// freePort returns a port of host that was free a moment ago: the kernel
// picks it for a listener that is closed at once. Another process may
// take it before it is bound again; StartCluster retries then.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("pick a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree reports whether port of host can be listened on now.
func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// dialHost is the address other nodes dial to reach a node listening on
// host: a wildcard listen address is reached on loopback.
func dialHost(host string) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return DefaultServerHost
	}
	return host
}
