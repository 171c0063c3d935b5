package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/cairnhq/cairn/streams"
	"github.com/cairnhq/cairn/streams/embedded"
)

const authUsage = `Usage:
  cairn auth <command> [flags]

Commands:
  permissions  print the NATS permissions of cairn's roles
  keys         make an NKey user per role and the nats-server authorization block

cairn's roles (docs/security.md) are least-privilege permission sets that
the NATS server enforces: admin (provisioning, purges), engine (workflow
workers, cairn server), ingress (CloudEvents), client (start, signal,
query, cancel, callbacks, reads) and activity (activity workers: their
tasks, and reporting results only). A cairn command with a role connects
with its credentials and --role ROLE (which sets the role's inbox prefix).
`

const authPermissionsUsage = `Usage:
  cairn auth permissions [--namespace NS] [--role ROLE] [--format conf|json]

Prints the permissions of every role (or of --role) in namespace NS: as
nats-server configuration blocks to paste into a user's "permissions"
(conf), or as JSON.
`

const authKeysUsage = `Usage:
  cairn auth keys --dir DIR [--namespace NS]

Makes an NKey user for every role, unless DIR has one already: DIR/<role>.nk
holds its seed (mode 0600; connect with --nkey DIR/<role>.nk --role <role>). Writes DIR/nats-auth.conf, the nats-server authorization
block listing each role's public key and permissions: include it in the
server's configuration. cairn dev --auth does the same for its embedded
server.
`

func cmdAuth(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("cairn auth", "missing command: permissions or keys")
	}
	switch args[0] {
	case "permissions", "perms":
		return authPermissions(args[1:], stdout)
	case "keys":
		return authKeys(args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, authUsage)
		return nil
	}
	return usageErrorf("cairn auth", "unknown command %q", args[0])
}

func authPermissions(args []string, stdout io.Writer) error {
	c := newCommand("cairn auth permissions", authPermissionsUsage, stdout)
	ns := c.fs.String("namespace", defaultNamespace, "cairn `namespace`")
	role := c.fs.String("role", "", "one `role`: admin, engine, ingress, client or activity (default all)")
	format := c.fs.String("format", "conf", "output `format`: conf or json")
	if err := c.parse(args); err != nil {
		return err
	}
	roles := streams.Roles
	if *role != "" {
		roles = []streams.Role{streams.Role(*role)}
	}
	var all []streams.Permissions
	for _, r := range roles {
		p, err := streams.RolePermissions(r, *ns)
		if err != nil {
			return usageErrorf(c.name, "%v", err)
		}
		all = append(all, p)
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(all) == 1 {
			return enc.Encode(all[0])
		}
		return enc.Encode(all)
	case "conf":
		for _, p := range all {
			fmt.Fprintf(stdout, "# role %s of namespace %s: connect with --inbox-prefix %s\n%s\n", p.Role, p.Namespace,
				p.InboxPrefix, permissionsConf(p, ""))
		}
		return nil
	}
	return usageErrorf(c.name, "--format %q: want conf or json", *format)
}

func authKeys(args []string, stdout io.Writer) error {
	c := newCommand("cairn auth keys", authKeysUsage, stdout)
	dir := c.fs.String("dir", "", "`directory` of the role keys (created if missing)")
	ns := c.fs.String("namespace", defaultNamespace, "cairn `namespace`")
	if err := c.parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return usageErrorf(c.name, "--dir is required")
	}
	if err := streams.ValidateNamespace(*ns); err != nil {
		return usageErrorf(c.name, "--namespace %q: must match [A-Za-z0-9_-]{1,64}", *ns)
	}
	keys, err := roleKeys(*dir, *ns)
	if err != nil {
		return err
	}
	conf := filepath.Join(*dir, authConfFile)
	fmt.Fprintf(stdout, "wrote %s\n", conf)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %-8s --nkey %s --role %s\n", k.perms.Role, k.seedFile, k.perms.Role)
	}
	return nil
}

// authConfFile, in a role keys directory, is the nats-server authorization
// block of its keys.
const authConfFile = "nats-auth.conf"

// roleKey is one role's NKey user.
type roleKey struct {
	perms    streams.Permissions
	seedFile string
	public   string
}

// roleKeys loads the NKey user of every role of namespace ns from dir,
// making those that are missing, and writes the authorization block of
// them all to dir/nats-auth.conf. Seeds are written with mode 0600 and
// never replaced: credentials handed out stay valid.
func roleKeys(dir, ns string) ([]roleKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("role keys: %w", err)
	}
	var keys []roleKey
	for _, r := range streams.Roles {
		perms, err := streams.RolePermissions(r, ns)
		if err != nil {
			return nil, err
		}
		file := filepath.Join(dir, string(r)+".nk")
		kp, err := loadOrCreateSeed(file)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r, err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r, err)
		}
		keys = append(keys, roleKey{perms: perms, seedFile: file, public: pub})
	}
	var b strings.Builder
	b.WriteString("# cairn roles of namespace " + ns + " (cairn auth keys); the seeds are beside this file.\n")
	b.WriteString("authorization {\n  users: [\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "    # %s: --nkey %s.nk --role %s (inbox prefix %s)\n", k.perms.Role, k.perms.Role, k.perms.Role, k.perms.InboxPrefix)
		fmt.Fprintf(&b, "    {\n      nkey: %q\n      permissions: %s\n    }\n", k.public, permissionsConf(k.perms, "      "))
	}
	b.WriteString("  ]\n}\n")
	if err := os.WriteFile(filepath.Join(dir, authConfFile), []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("role keys: %w", err)
	}
	return keys, nil
}

// loadOrCreateSeed reads the NKey user seed in file, or makes one and
// writes it there (0600) if the file does not exist.
func loadOrCreateSeed(file string) (nkeys.KeyPair, error) {
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		kp, err := nkeys.ParseDecoratedNKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if seed, err := kp.Seed(); err != nil || len(seed) < 2 || string(seed[:2]) != "SU" {
			return nil, fmt.Errorf("%s: not an NKey user seed", file)
		}
		return kp, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, err
	}
	// O_EXCL: two processes making the same key keep the first one's.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateSeed(file)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(append(seed, '\n')); err != nil {
		f.Close()
		return nil, err
	}
	return kp, f.Close()
}

// embeddedUsers are the role keys as users of the embedded server.
func embeddedUsers(keys []roleKey) []embedded.User {
	users := make([]embedded.User, 0, len(keys))
	for _, k := range keys {
		users = append(users, embedded.User{NKey: k.public, Publish: k.perms.Publish, Subscribe: k.perms.Subscribe,
			AllowResponses: k.perms.AllowResponses})
	}
	return users
}

// permissionsConf renders p as a nats-server configuration block. Subjects
// are quoted: unquoted, "$JS..." would be read as a variable.
func permissionsConf(p streams.Permissions, indent string) string {
	list := func(subjects []string) string {
		q := make([]string, len(subjects))
		for i, s := range subjects {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[\n" + indent + "      " + strings.Join(q, ",\n"+indent+"      ") + "\n" + indent + "    ]"
	}
	var b strings.Builder
	b.WriteString("{\n")
	fmt.Fprintf(&b, "%s  publish: { allow: %s }\n", indent, list(p.Publish))
	fmt.Fprintf(&b, "%s  subscribe: { allow: %s }\n", indent, list(p.Subscribe))
	if p.AllowResponses {
		fmt.Fprintf(&b, "%s  allow_responses: true\n", indent)
	}
	b.WriteString(indent + "}")
	return b.String()
}
