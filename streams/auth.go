package streams

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
)

// Auth is how a process proves who it is to NATS and secures its
// connection: one way to authenticate (a credentials file, an NKey seed, a
// user and password, or a token) and TLS settings. The zero Auth connects
// without credentials, with TLS only when the URL asks for it (tls://).
// Every cairn command and process takes the same settings, as flags or in
// the environment variables the nats CLI reads (AuthFromEnv).
type Auth struct {
	// Creds is a user credentials file: a user JWT and its NKey seed, as
	// nsc and the nats CLI write them (decentralised JWT authentication).
	Creds string
	// NKey is a file holding an NKey user seed ("SU..."), for a server that
	// lists the user's public key.
	NKey string
	// User and Password authenticate with a user name and password.
	User     string
	Password string
	// Token authenticates with a token.
	Token string
	// CA is a PEM file of the certificate authorities that sign the
	// server's certificate (TLS); Cert and Key are a client certificate
	// and its key, for servers that verify clients (mutual TLS).
	CA   string
	Cert string
	Key  string
	// InboxPrefix replaces _INBOX as the prefix of the connection's reply
	// subjects. A process with a cairn role must use its role's
	// (RoleInboxPrefix): the role may subscribe there and nowhere else
	// under _INBOX.
	InboxPrefix string
}

// The environment variables AuthFromEnv reads: the nats CLI's, so one
// environment serves the nats CLI and cairn.
const (
	EnvCreds    = "NATS_CREDS"
	EnvNKey     = "NATS_NKEY"
	EnvUser     = "NATS_USER"
	EnvPassword = "NATS_PASSWORD"
	EnvToken    = "NATS_TOKEN"
	EnvCA       = "NATS_CA"
	EnvCert     = "NATS_CERT"
	EnvKey      = "NATS_KEY"
	// EnvInboxPrefix is cairn's own: the nats CLI takes an inbox prefix as
	// a flag only.
	EnvInboxPrefix = "CAIRN_INBOX_PREFIX"
)

// ErrInvalidAuth is wrapped by every error of Auth.Options: settings that
// contradict each other or files that cannot be read.
var ErrInvalidAuth = errors.New("invalid NATS authentication settings")

// AuthFromEnv returns the settings given in the environment (EnvCreds and
// the others).
func AuthFromEnv() Auth {
	return Auth{
		Creds:    os.Getenv(EnvCreds),
		NKey:     os.Getenv(EnvNKey),
		User:     os.Getenv(EnvUser),
		Password: os.Getenv(EnvPassword),
		Token:    os.Getenv(EnvToken),
		CA:       os.Getenv(EnvCA),
		Cert:     os.Getenv(EnvCert),
		Key:      os.Getenv(EnvKey),

		InboxPrefix: os.Getenv(EnvInboxPrefix),
	}
}

// methods names the ways of authenticating that a sets, for messages.
func (a Auth) methods() []string {
	var m []string
	if a.Creds != "" {
		m = append(m, "a credentials file")
	}
	if a.NKey != "" {
		m = append(m, "an NKey seed")
	}
	if a.User != "" {
		m = append(m, "a user")
	}
	if a.Token != "" {
		m = append(m, "a token")
	}
	return m
}

// Options checks a and returns the connect options it stands for. It
// refuses more than one way of authenticating, a password without a user,
// a client certificate without its key (or the reverse), and files that
// cannot be read, so a typo fails at start rather than as an
// authorization error from the server.
func (a Auth) Options() ([]nats.Option, error) {
	if m := a.methods(); len(m) > 1 {
		return nil, fmt.Errorf("%w: give one way to authenticate, not %d (%v)", ErrInvalidAuth, len(m), m)
	}
	if a.Password != "" && a.User == "" {
		return nil, fmt.Errorf("%w: a password without a user", ErrInvalidAuth)
	}
	if (a.Cert == "") != (a.Key == "") {
		return nil, fmt.Errorf("%w: a client certificate needs its key, and a key its certificate", ErrInvalidAuth)
	}
	for _, f := range []struct{ what, path string }{
		{"credentials file", a.Creds}, {"NKey seed file", a.NKey}, {"CA file", a.CA},
		{"client certificate", a.Cert}, {"client key", a.Key},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidAuth, f.what, err)
		}
	}
	var opts []nats.Option
	switch {
	case a.Creds != "":
		opts = append(opts, nats.UserCredentials(a.Creds))
	case a.NKey != "":
		opt, err := nats.NkeyOptionFromSeed(a.NKey)
		if err != nil {
			return nil, fmt.Errorf("%w: NKey seed file: %w", ErrInvalidAuth, err)
		}
		opts = append(opts, opt)
	case a.User != "":
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	case a.Token != "":
		opts = append(opts, nats.Token(a.Token))
	}
	if a.CA != "" {
		opts = append(opts, nats.RootCAs(a.CA))
	}
	if a.Cert != "" {
		opts = append(opts, nats.ClientCert(a.Cert, a.Key))
	}
	if a.InboxPrefix != "" {
		if strings.ContainsAny(a.InboxPrefix, "*> \t") || strings.HasSuffix(a.InboxPrefix, ".") || strings.HasPrefix(a.InboxPrefix, ".") ||
			strings.Contains(a.InboxPrefix, "..") {
			return nil, fmt.Errorf("%w: inbox prefix %q is not a subject without wildcards", ErrInvalidAuth, a.InboxPrefix)
		}
		opts = append(opts, nats.CustomInboxPrefix(a.InboxPrefix))
	}
	return opts, nil
}
