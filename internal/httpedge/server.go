package httpedge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Timeouts of every cairn HTTP server. ReadTimeout covers the headers and
// the whole body, so a body sent a byte at a time cannot hold a connection
// (and a goroutine and buffer) for longer; at its value a 1 MiB event needs
// about 35 KB/s. WriteTimeout runs from the end of the headers to the end
// of the answer and so also bounds processing (a batch's events are
// retried on engine failures).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 90 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	// DefaultMaxHeaderBytes bounds request headers (net/http's default
	// is 1 MiB).
	DefaultMaxHeaderBytes = 64 << 10
)

// ErrInvalidOption is wrapped by the errors of options given wrong values.
var ErrInvalidOption = errors.New("httpedge: invalid option")

// Config is how a Server is set up.
type Config struct {
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
	// TLS, if not nil, makes the server speak HTTPS only.
	TLS *tls.Config
}

// Option configures a Server.
type Option func(*Config) error

// WithTimeouts overrides the timeouts; each must be positive.
func WithTimeouts(readHeader, read, write, idle time.Duration) Option {
	return func(c *Config) error {
		for _, d := range []time.Duration{readHeader, read, write, idle} {
			if d <= 0 {
				return fmt.Errorf("%w: timeouts must be positive, got %v", ErrInvalidOption, d)
			}
		}
		c.ReadHeaderTimeout, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout = readHeader, read, write, idle
		return nil
	}
}

// WithTLSFiles serves HTTPS with the PEM certificate (chain) and key of the
// given files. Both must be given, or neither (plain HTTP).
func WithTLSFiles(certFile, keyFile string) Option {
	return func(c *Config) error {
		if certFile == "" && keyFile == "" {
			return nil
		}
		if certFile == "" || keyFile == "" {
			return fmt.Errorf("%w: a TLS certificate needs its key and a key its certificate", ErrInvalidOption)
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("httpedge: TLS certificate: %w", err)
		}
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		return nil
	}
}

// Server is an http.Server with cairn's timeouts, optionally TLS.
type Server struct {
	srv *http.Server
	tls bool
}

// NewServer returns a server of h with the default timeouts changed by
// opts.
func NewServer(h http.Handler, opts ...Option) (*Server, error) {
	c := Config{ReadHeaderTimeout: DefaultReadHeaderTimeout, ReadTimeout: DefaultReadTimeout,
		WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout, MaxHeaderBytes: DefaultMaxHeaderBytes}
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	return &Server{tls: c.TLS != nil, srv: &http.Server{Handler: h, ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout,
		MaxHeaderBytes: c.MaxHeaderBytes, TLSConfig: c.TLS}}, nil
}

// Scheme is "https" with TLS, else "http".
func (s *Server) Scheme() string {
	if s.tls {
		return "https"
	}
	return "http"
}

// HTTP is the underlying server (for Shutdown, or to read its settings).
func (s *Server) HTTP() *http.Server { return s.srv }

// Serve serves on l until Shutdown; it returns http.ErrServerClosed then.
func (s *Server) Serve(l net.Listener) error {
	if s.tls {
		return s.srv.ServeTLS(l, "", "")
	}
	return s.srv.Serve(l)
}

// IsLoopback reports whether a listen address only accepts connections
// from this machine ("localhost", 127.0.0.0/8, ::1). An empty host
// (":4280") listens on every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
