package embedded

import (
	"io"
	"net"
	"sync"
	"time"
)

// routeProxy forwards the route connections one node of a Cluster dials to
// another, so that KillNode can cut every connection of a node at once,
// before the node could tell the others it is leaving.
type routeProxy struct {
	l      net.Listener
	target string // host:port of the target node's route listener

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cut   bool // refuse and drop connections
	done  bool // closed for good
	wg    sync.WaitGroup
}

// routeDialTimeout bounds the proxy's dial of the target node.
const routeDialTimeout = 2 * time.Second

// newRouteProxy listens on a free port of host and forwards to target.
func newRouteProxy(host, target string) (*routeProxy, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	p := &routeProxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	return p, nil
}

// addr is the address the dialing node is given as the target's route.
func (p *routeProxy) addr() string { return p.l.Addr().String() }

func (p *routeProxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(in) {
			in.Close()
			continue
		}
		p.wg.Go(func() { p.pipe(in) })
	}
}

// track registers c, unless the proxy is cut or closed.
func (p *routeProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut || p.done {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *routeProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// pipe copies both ways between in and a new connection to the target
// until either side closes or the proxy cuts them.
func (p *routeProxy) pipe(in net.Conn) {
	defer p.untrack(in)
	out, err := net.DialTimeout("tcp", p.target, routeDialTimeout)
	if err != nil {
		return
	}
	if !p.track(out) {
		out.Close()
		return
	}
	defer p.untrack(out)
	var wg sync.WaitGroup
	copyTo := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Either direction ending ends the route: close both, so the
		// other copy returns too.
		dst.Close()
		src.Close()
	}
	wg.Go(func() { copyTo(out, in) })
	wg.Go(func() { copyTo(in, out) })
	wg.Wait()
}

// setCut cuts (drops every connection and refuses new ones) or restores
// the proxy.
func (p *routeProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

// close stops the proxy for good and waits for its goroutines.
func (p *routeProxy) close() {
	p.mu.Lock()
	p.done = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.l.Close()
	p.wg.Wait()
}
