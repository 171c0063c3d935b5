package streams

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// startAuthServer runs a nats-server on a free loopback port with opts'
// authentication settings.
func startAuthServer(t *testing.T, configure func(o *server.Options)) *server.Server {
	t.Helper()
	o := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true}
	configure(o)
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// connectWith connects to s with a's settings.
func connectWith(t *testing.T, url string, a Auth) error {
	t.Helper()
	opts, err := a.Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, append(opts, nats.MaxReconnects(0))...)
	if err == nil {
		nc.Close()
	}
	return err
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuthConnects: each way of authenticating gets in with the right
// secret and is refused without it.
func TestAuthConnects(t *testing.T) {
	t.Run("user and password", func(t *testing.T) {
		s := startAuthServer(t, func(o *server.Options) { o.Username, o.Password = "engine", "s3cret" })
		if err := connectWith(t, s.ClientURL(), Auth{User: "engine", Password: "s3cret"}); err != nil {
			t.Fatal(err)
		}
		if err := connectWith(t, s.ClientURL(), Auth{User: "engine", Password: "wrong"}); !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("wrong password: %v, want an authorization error", err)
		}
		if err := connectWith(t, s.ClientURL(), Auth{}); !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("no credentials: %v, want an authorization error", err)
		}
	})
	t.Run("token", func(t *testing.T) {
		s := startAuthServer(t, func(o *server.Options) { o.Authorization = "t0ken" })
		if err := connectWith(t, s.ClientURL(), Auth{Token: "t0ken"}); err != nil {
			t.Fatal(err)
		}
		if err := connectWith(t, s.ClientURL(), Auth{Token: "other"}); !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("wrong token: %v, want an authorization error", err)
		}
	})
	t.Run("nkey", func(t *testing.T) {
		user, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := user.PublicKey()
		seed, _ := user.Seed()
		s := startAuthServer(t, func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: pub}} })
		if err := connectWith(t, s.ClientURL(), Auth{NKey: writeFile(t, "user.nk", seed)}); err != nil {
			t.Fatal(err)
		}
		other, _ := nkeys.CreateUser()
		otherSeed, _ := other.Seed()
		if err := connectWith(t, s.ClientURL(), Auth{NKey: writeFile(t, "other.nk", otherSeed)}); !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("unknown key: %v, want an authorization error", err)
		}
	})
	t.Run("tls", func(t *testing.T) {
		caPEM, certPEM, keyPEM := testCertificates(t)
		s := startAuthServer(t, func(o *server.Options) {
			cert, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			o.TLS = true
		})
		url := strings.Replace(s.ClientURL(), "nats://", "tls://", 1)
		if err := connectWith(t, url, Auth{CA: writeFile(t, "ca.pem", caPEM)}); err != nil {
			t.Fatal(err)
		}
		if err := connectWith(t, url, Auth{}); err == nil {
			t.Fatal("connected to a server whose certificate no trusted CA signed")
		}
	})
}

// testCertificates makes a CA and a certificate it signs for 127.0.0.1.
func testCertificates(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cairn test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// TestAuthOptionsRefuseContradictions: settings that cannot be meant fail
// before any connection, with ErrInvalidAuth.
func TestAuthOptionsRefuseContradictions(t *testing.T) {
	file := writeFile(t, "f", []byte("x"))
	cases := map[string]Auth{
		"two ways":                   {User: "u", Token: "t"},
		"creds and nkey":             {Creds: file, NKey: file},
		"a password without a user":  {Password: "p"},
		"a certificate without key":  {Cert: file},
		"a key without certificate":  {Key: file},
		"a missing credentials file": {Creds: filepath.Join(t.TempDir(), "missing.creds")},
		"a missing CA file":          {CA: filepath.Join(t.TempDir(), "missing.pem")},
		"an NKey file with no seed":  {NKey: file},
	}
	for name, a := range cases {
		if _, err := a.Options(); !errors.Is(err, ErrInvalidAuth) {
			t.Errorf("%s: %v, want ErrInvalidAuth", name, err)
		}
	}
	if opts, err := (Auth{}).Options(); err != nil || len(opts) != 0 {
		t.Errorf("zero Auth: %d options, %v", len(opts), err)
	}
}

// TestAuthFromEnv reads the nats CLI's variables.
func TestAuthFromEnv(t *testing.T) {
	for _, v := range []string{EnvCreds, EnvNKey, EnvToken, EnvCert, EnvKey} {
		t.Setenv(v, "")
	}
	t.Setenv(EnvUser, "u")
	t.Setenv(EnvPassword, "p")
	t.Setenv(EnvCA, "/ca.pem")
	if got, want := AuthFromEnv(), (Auth{User: "u", Password: "p", CA: "/ca.pem"}); got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
}
