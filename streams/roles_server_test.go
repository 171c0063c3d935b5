package streams

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/cairnhq/cairn/streams/embedded"
)

// TestEnsureWithRoles: on a server that enforces the roles, the admin
// provisions; then every role runs Ensure on the provisioned namespace
// without a single permission violation (it only looks), and a role that
// may not provision, asked to on a namespace that is not there, gets
// ErrNotPermitted at its first refused request instead of retrying.
func TestEnsureWithRoles(t *testing.T) {
	seeds := map[Role]string{}
	var users []embedded.User
	for _, r := range Roles {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := kp.Seed()
		pub, _ := kp.PublicKey()
		seeds[r] = filepath.Join(t.TempDir(), string(r)+".nk")
		if err := os.WriteFile(seeds[r], seed, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := RolePermissions(r, "ns")
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, embedded.User{NKey: pub, Publish: p.Publish, Subscribe: p.Subscribe, AllowResponses: p.AllowResponses})
	}
	srv := startTestServer(t, "", embedded.WithUsers(users...))
	var mu sync.Mutex
	var violations []string
	conn := func(r Role) jetstream.JetStream {
		opts, err := Auth{NKey: seeds[r], InboxPrefix: RoleInboxPrefix(r, "ns")}.Options()
		if err != nil {
			t.Fatal(err)
		}
		nc, err := Connect(srv.ClientURL(), append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			mu.Lock()
			violations = append(violations, string(r)+": "+err.Error())
			mu.Unlock()
		}))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		return js
	}
	ctx := testCtx(t)
	if err := Ensure(ctx, conn(RoleAdmin), "ns"); err != nil {
		t.Fatal(err)
	}
	for _, r := range Roles[1:] {
		if err := Ensure(ctx, conn(r), "ns"); err != nil {
			t.Errorf("role %s: Ensure of a provisioned namespace: %v", r, err)
		}
	}
	mu.Lock()
	if len(violations) > 0 {
		t.Errorf("refused while only looking: %v", violations)
	}
	mu.Unlock()

	// The engine role of "ns" may not even look at another namespace,
	// let alone create it: refused, and said so.
	start := time.Now()
	err := Ensure(ctx, conn(RoleEngine), "fresh")
	if !errors.Is(err, ErrNotPermitted) {
		t.Fatalf("Ensure of a missing namespace as the engine: %v, want ErrNotPermitted", err)
	}
	if d := time.Since(start); d > 2*apiTimeout {
		t.Errorf("refusal took %v: it was retried", d)
	}
}
