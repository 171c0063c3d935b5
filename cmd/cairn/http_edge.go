package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/cairnhq/cairn/internal/httpedge"
)

// httpEdgeFlags are the flags, shared by cairn dev and cairn server, that
// protect every HTTP endpoint cairn serves (the CloudEvents endpoint and
// /metrics).
type httpEdgeFlags struct {
	tokenFile, tlsCert, tlsKey string
}

func (f *httpEdgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tokenFile, "http-token-file", "", "`file` of bearer tokens the HTTP endpoints accept, one per line (also env "+httpedge.EnvTokens+"); none: open")
	fs.StringVar(&f.tlsCert, "http-tls-cert", "", "PEM certificate `file` (chain): serve the HTTP endpoints over TLS")
	fs.StringVar(&f.tlsKey, "http-tls-key", "", "PEM private key `file` of --http-tls-cert")
}

// httpEdge is what every cairn HTTP server is built with.
type httpEdge struct {
	tokens httpedge.Tokens
	opts   []httpedge.Option
}

// load reads the token file, CAIRN_HTTP_TOKENS and the certificate, so
// that a wrong file fails at startup, not at the first request.
func (f *httpEdgeFlags) load(cmd string) (httpEdge, error) {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return httpEdge{}, usageErrorf(cmd, "--http-tls-cert and --http-tls-key go together")
	}
	tokens, err := httpedge.LoadTokens(f.tokenFile, os.Getenv(httpedge.EnvTokens))
	if err != nil {
		return httpEdge{}, &cliError{err: err, msg: fmt.Sprintf("--http-token-file: %v", err)}
	}
	tlsOpt := httpedge.WithTLSFiles(f.tlsCert, f.tlsKey)
	if _, err := httpedge.NewServer(http.NotFoundHandler(), tlsOpt); err != nil {
		return httpEdge{}, &cliError{err: err, msg: fmt.Sprintf("--http-tls-cert/--http-tls-key: %v", err)}
	}
	return httpEdge{tokens: tokens, opts: []httpedge.Option{tlsOpt}}, nil
}

// edgeServer is one running HTTP server.
type edgeServer struct {
	url  string // scheme://host:port
	srv  *httpedge.Server
	done chan struct{}
}

// serve listens on addr and serves h behind the bearer tokens, with
// panic recovery, a bound on requests in flight, cairn's timeouts and TLS
// if configured. name is how logs
// call the endpoint. An open endpoint on an address other machines can
// reach is logged as a warning: anyone there may start workflows.
func (e httpEdge) serve(name, addr string, h http.Handler, log *slog.Logger) (*edgeServer, error) {
	// Authentication first, so that unauthenticated requests take no
	// in-flight slot.
	limited, err := httpedge.LimitInFlight(httpedge.DefaultMaxInFlight, h)
	if err != nil {
		return nil, err
	}
	srv, err := httpedge.NewServer(httpedge.Recover(log, httpedge.RequireBearer(e.tokens, limited)), e.opts...)
	if err != nil {
		return nil, err
	}
	// net/http's own complaints (TLS handshakes, malformed requests) go
	// to the command's log, not to stderr unformatted.
	srv.HTTP().ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if e.tokens.Empty() && !httpedge.IsLoopback(addr) {
		log.Warn(name+" accepts requests without authentication on a non-loopback address; set --http-token-file or "+httpedge.EnvTokens,
			"address", l.Addr().String())
	}
	es := &edgeServer{url: srv.Scheme() + "://" + l.Addr().String(), srv: srv, done: make(chan struct{})}
	go func() {
		defer close(es.done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" stopped", "error", err)
		}
	}()
	return es, nil
}

// stop lets requests in progress finish (within 5 s) and waits for the
// server to end.
func (es *edgeServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = es.srv.HTTP().Shutdown(ctx)
	<-es.done
}
