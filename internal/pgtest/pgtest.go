// Package pgtest gives each test a fresh, empty PostgreSQL database on the
// server named by TRUSTBOT_TEST_PG (an admin URL, such as the one
// tools/pgcluster prints), and drops it when the test passes. Without that
// variable the test is skipped, or fails when TRUSTBOT_TEST_PG_REQUIRED=1
// (as in CI, through make test-pg).
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// EnvURL names the admin URL of the test server.
	EnvURL = "TRUSTBOT_TEST_PG"
	// EnvRequired, set to 1, turns a missing EnvURL into a failure.
	EnvRequired = "TRUSTBOT_TEST_PG_REQUIRED"

	connectTimeout = 15 * time.Second
)

// URL returns the URL of a new, empty database created for this test on
// the server named by TRUSTBOT_TEST_PG. The database is dropped when the
// test and its subtests are done, unless the test failed: then it is kept
// and its name logged, for a look at what the test left behind.
func URL(t testing.TB) string {
	t.Helper()
	admin, ok := adminURL(t)
	if !ok {
		return ""
	}
	return create(t, admin, "template0")
}

// Template returns the URL of a new database for this test made as a copy
// of a template database, which prepare builds once (given its URL) and
// which is kept on the server under a name made from key: tests that need
// the same starting point (a migrated schema) each get a copy in a few
// milliseconds rather than building it again. The key must change whenever
// what prepare builds does (say, a hash of the migrations). The copy is
// dropped as URL's database is.
func Template(t testing.TB, key string, prepare func(url string) error) string {
	t.Helper()
	admin, ok := adminURL(t)
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	name := "template_" + hex.EncodeToString(sum[:12])
	templates.Lock()
	err := templates.built[name]
	if _, done := templates.built[name]; !done {
		err = buildTemplate(admin, name, prepare)
		templates.built[name] = err
	}
	templates.Unlock()
	if err != nil {
		t.Fatalf("pgtest: cannot build the template database %s on %s: %v", name, where(admin), err)
		return ""
	}
	return create(t, admin, name)
}

// templates remembers the template databases this process made sure of.
var templates = struct {
	sync.Mutex
	built map[string]error
}{built: map[string]error{}}

// buildTemplate makes sure the template database name exists. Another
// test process may build it at the same moment: each builds under a name
// of its own and renames it, which only the first does; the others drop
// theirs.
func buildTemplate(admin *url.URL, name string, prepare func(url string) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	exists, err := templateExists(ctx, admin, name)
	if err != nil || exists {
		return err
	}
	building := databaseName("build_" + name)
	if err := exec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return err
	}
	drop := func() {
		exec(context.Background(), admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)")
	}
	u := *admin
	u.Path, u.RawPath = "/"+building, ""
	if err := prepare(u.String()); err != nil {
		drop()
		return err
	}
	// A session prepare closed may still be ending on the server, and a
	// database with sessions can be neither renamed nor copied.
	if err := exec(ctx, admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+building+"' AND pid <> pg_backend_pid()"); err != nil {
		drop()
		return err
	}
	err = exec(ctx, admin, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		drop()
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42P04" { // duplicate_database: another process was first
			return nil
		}
	}
	return err
}

func templateExists(ctx context.Context, admin *url.URL, name string) (bool, error) {
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return false, connectError{err}
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n)
	return n == 1, err
}

// create makes a new database for this test as a copy of template and
// drops it at the end of the test, unless the test failed.
func create(t testing.TB, admin *url.URL, template string) string {
	t.Helper()
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	err := exec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize()+" ENCODING 'UTF8'")
	var unreachable connectError
	if errors.As(err, &unreachable) {
		t.Fatalf("pgtest: cannot reach the PostgreSQL server %s named by %s (is it running? make test-pg starts one): %v", where(admin), EnvURL, unreachable.err)
		return ""
	}
	if err != nil {
		t.Fatalf("pgtest: cannot create a test database on %s: %v", where(admin), err)
		return ""
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: the test failed; its database %s on %s is kept", name, where(admin))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
		defer cancel()
		// FORCE ends the sessions a test left open, as a pool may.
		if err := exec(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: cannot drop the test database %s on %s: %v", name, where(admin), err)
		}
	})
	u := *admin
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// adminURL reads and checks TRUSTBOT_TEST_PG; it skips or fails the test
// when the variable is unset.
func adminURL(t testing.TB) (*url.URL, bool) {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		if os.Getenv(EnvRequired) == "1" {
			t.Fatalf("pgtest: %s is unset but %s=1: this run needs a PostgreSQL server (make test-pg starts one)", EnvURL, EnvRequired)
		} else {
			t.Skipf("pgtest: skipped, %s is unset (make test-pg runs the PostgreSQL tests)", EnvURL)
		}
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		t.Fatalf("pgtest: %s must be a postgres://user@host:port/database URL", EnvURL)
		return nil, false
	}
	return u, true
}

// exec runs one statement on the admin database, each on a connection of
// its own: CREATE and DROP DATABASE cannot run inside a transaction.
func exec(ctx context.Context, admin *url.URL, sql string) error {
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return connectError{err}
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// connectError is a failure to reach the server at all.
type connectError struct{ err error }

func (e connectError) Error() string { return e.err.Error() }

// where names the server without any password, for messages.
func where(u *url.URL) string {
	s := u.Host
	if u.User != nil {
		s = u.User.Username() + "@" + s
	}
	return s
}

// databaseName makes a database name from the test's name and a random
// suffix: lower case letters, digits and underscores, within PostgreSQL's
// 63 bytes.
func databaseName(test string) string {
	var b strings.Builder
	b.WriteString("test_")
	lastUnderscore := true
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			lastUnderscore = false
		} else if !lastUnderscore {
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	if !lastUnderscore {
		b.WriteByte('_')
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	b.WriteString(hex.EncodeToString(suffix[:]))
	return b.String()
}
