package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairnhq/cairn/streams"
)

// TestCLIAuthenticates: against a NATS server that requires a user, the
// CLI gets in with --user/--password or the nats CLI's environment
// variables, and without them is refused with the server's reason.
func TestCLIAuthenticates(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		Username: "ops", Password: "s3cret", NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(srv.Shutdown)
	url := srv.ClientURL()
	opts, err := streams.Auth{User: "ops", Password: "s3cret"}.Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := streams.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := streams.Ensure(t.Context(), js, "default"); err != nil {
		t.Fatal(err)
	}

	for _, v := range []string{streams.EnvCreds, streams.EnvNKey, streams.EnvUser, streams.EnvPassword, streams.EnvToken,
		streams.EnvCA, streams.EnvCert, streams.EnvKey} {
		t.Setenv(v, "")
	}
	mustCLI(t, "workflow", "list", "--server", url, "--user", "ops", "--password", "s3cret")
	if r := cli(t, "workflow", "list", "--server", url); r.code != exitError || !strings.Contains(r.stderr, "Authorization Violation") {
		t.Fatalf("without credentials: want exit 1 and the server's refusal, got %s", r)
	}
	if r := cli(t, "workflow", "list", "--server", url, "--user", "ops", "--password", "wrong"); r.code != exitError {
		t.Fatalf("with a wrong password: want exit 1, got %s", r)
	}
	t.Setenv(streams.EnvUser, "ops")
	t.Setenv(streams.EnvPassword, "s3cret")
	mustCLI(t, "workflow", "list", "--server", url)
}

// TestAuthCommands: cairn auth permissions prints every role (conf) or one
// (JSON), refuses an unknown role; cairn auth keys makes the keys once.
func TestAuthCommands(t *testing.T) {
	r := mustCLI(t, "auth", "permissions", "--namespace", "shop")
	for _, role := range streams.Roles {
		if !strings.Contains(r.stdout, "# role "+string(role)+" of namespace shop") {
			t.Errorf("no block for role %s:\n%s", role, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, `"cairn.shop.inbox.*.*.*.activity"`) {
		t.Errorf("the activity role's result subjects are missing:\n%s", r.stdout)
	}
	r = mustCLI(t, "auth", "permissions", "--role", "activity", "--format", "json")
	var p streams.Permissions
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || p.Role != streams.RoleActivity ||
		p.InboxPrefix != "_INBOX.cairn.default.activity" || len(p.Publish) == 0 {
		t.Fatalf("json: %v %+v", err, p)
	}
	wantFail(t, exitUsage, "unknown role", "auth", "permissions", "--role", "root")
	wantFail(t, exitUsage, "--dir is required", "auth", "keys")

	dir := t.TempDir()
	first := mustCLI(t, "auth", "keys", "--dir", dir)
	conf, err := os.ReadFile(filepath.Join(dir, authConfFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(conf), "nkey: \"U"); n != len(streams.Roles) {
		t.Fatalf("%d users in the authorization block, want %d:\n%s", n, len(streams.Roles), conf)
	}
	seed, _ := os.ReadFile(filepath.Join(dir, "engine.nk"))
	second := mustCLI(t, "auth", "keys", "--dir", dir)
	again, _ := os.ReadFile(filepath.Join(dir, "engine.nk"))
	conf2, _ := os.ReadFile(filepath.Join(dir, authConfFile))
	if string(seed) != string(again) || string(conf) != string(conf2) || first.stdout != second.stdout {
		t.Fatal("a second run made new keys")
	}
}

// TestAuthConfLoadsInNATSServer: the authorization block cairn auth keys
// writes is a valid nats-server configuration whose users hold exactly the
// roles' permissions.
func TestAuthConfLoadsInNATSServer(t *testing.T) {
	dir := t.TempDir()
	keys, err := roleKeys(dir, "shop")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "server.conf")
	if err := os.WriteFile(conf, []byte("port: -1\ninclude "+authConfFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server refuses the configuration: %v", err)
	}
	if len(opts.Nkeys) != len(keys) {
		t.Fatalf("%d users, want %d", len(opts.Nkeys), len(keys))
	}
	byKey := map[string]*server.NkeyUser{}
	for _, u := range opts.Nkeys {
		byKey[u.Nkey] = u
	}
	for _, k := range keys {
		u := byKey[k.public]
		if u == nil || u.Permissions == nil {
			t.Fatalf("role %s: no user with its key", k.perms.Role)
		}
		if !slices.Equal(u.Permissions.Publish.Allow, k.perms.Publish) || !slices.Equal(u.Permissions.Subscribe.Allow, k.perms.Subscribe) ||
			(u.Permissions.Response != nil) != k.perms.AllowResponses {
			t.Errorf("role %s: the server reads other permissions: %+v", k.perms.Role, u.Permissions)
		}
	}
}
