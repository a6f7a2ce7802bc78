package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// fakeTB stands in for a test so that URL's skips, failures and cleanups
// can be watched without failing or skipping the real test.
type fakeTB struct {
	testing.TB
	name     string
	failed   bool
	mu       sync.Mutex
	fatal    string
	skip     string
	errs     []string
	logs     []string
	cleanups []func()
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Failed() bool { return f.failed }
func (f *fakeTB) Cleanup(fn func()) {
	f.cleanups = append(f.cleanups, fn)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skip = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}
func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// call runs URL as the fake test would, on a goroutine of its own since
// Fatalf and Skipf end it, and then runs the cleanups URL registered.
func (f *fakeTB) call() string {
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = URL(f)
	}()
	<-done
	for _, fn := range slices.Backward(f.cleanups) {
		fn()
	}
	return got
}

func TestSkipsWithOneLineWithoutServer(t *testing.T) {
	t.Setenv(EnvURL, "")
	t.Setenv(EnvRequired, "")
	f := &fakeTB{TB: t, name: t.Name()}
	if got := f.call(); got != "" {
		t.Fatalf("URL = %q without a server", got)
	}
	if f.fatal != "" {
		t.Fatalf("failed instead of skipping: %s", f.fatal)
	}
	if !strings.Contains(f.skip, "make test-pg") || strings.Contains(f.skip, "\n") {
		t.Fatalf("skip message %q: want one line naming make test-pg", f.skip)
	}
}

func TestRequiredFailsWithoutServer(t *testing.T) {
	t.Setenv(EnvURL, "")
	t.Setenv(EnvRequired, "1")
	f := &fakeTB{TB: t, name: t.Name()}
	f.call()
	if f.skip != "" {
		t.Fatalf("skipped although required: %s", f.skip)
	}
	if !strings.Contains(f.fatal, EnvURL) || !strings.Contains(f.fatal, "make test-pg") {
		t.Fatalf("failure message %q: want it to name %s and make test-pg", f.fatal, EnvURL)
	}
}

func TestUnreachableServerFails(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	t.Setenv(EnvURL, fmt.Sprintf("postgres://postgres:Sekr3tPassw0rd@127.0.0.1:%d/postgres?sslmode=disable", port))
	t.Setenv(EnvRequired, "")
	f := &fakeTB{TB: t, name: t.Name()}
	f.call()
	if f.skip != "" {
		t.Fatalf("skipped although a server is named: %s", f.skip)
	}
	if !strings.Contains(f.fatal, "cannot reach") || !strings.Contains(f.fatal, fmt.Sprint(port)) {
		t.Fatalf("failure message %q: want it to say the server named by %s cannot be reached", f.fatal, EnvURL)
	}
	if strings.Contains(f.fatal, "Sekr3tPassw0rd") {
		t.Fatalf("failure message carries the password: %s", f.fatal)
	}
}

func TestNotAURLFails(t *testing.T) {
	for _, v := range []string{"host=127.0.0.1 user=postgres", "mysql://root@127.0.0.1/x", "postgres:///postgres"} {
		t.Setenv(EnvURL, v)
		f := &fakeTB{TB: t, name: t.Name()}
		f.call()
		if !strings.Contains(f.fatal, "must be a postgres://") {
			t.Errorf("%s=%q: failure message %q", EnvURL, v, f.fatal)
		}
	}
}

func TestDatabaseNames(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	seen := map[string]bool{}
	for _, test := range []string{
		"TestX",
		"TestStore/claims_under_concurrency/#01",
		strings.Repeat("TestAVeryLongNameIndeed", 10),
		"Test日本語/ケース",
		"",
	} {
		name := databaseName(test)
		if !valid.MatchString(name) || !strings.HasPrefix(name, "test_") {
			t.Errorf("databaseName(%q) = %q: not a plain PostgreSQL name", test, name)
		}
		if seen[name] {
			t.Errorf("databaseName(%q) = %q twice", test, name)
		}
		seen[name] = true
	}
	if a, b := databaseName("TestX"), databaseName("TestX"); a == b {
		t.Errorf("two databases of one test share the name %s", a)
	}
}

// admin connects to the server named by TRUSTBOT_TEST_PG, after URL has
// made sure the variable is set (or skipped the test).
func admin(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), os.Getenv(EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func databaseExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestDatabaseIsCreatedEmptyAndDropped(t *testing.T) {
	URL(t) // skips or fails without a server
	adminConn := admin(t)
	ctx := context.Background()

	var name string
	var left *pgx.Conn
	t.Run("test", func(t *testing.T) {
		u := URL(t)
		other := URL(t)
		if u == other {
			t.Fatalf("two calls gave the same database %s", u)
		}
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		// The connection stays open past the test, as a pool a test forgot
		// to close would: the database is dropped all the same.
		left = conn
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if parsed, err := url.Parse(u); err != nil || parsed.Path != "/"+name || parsed.Query().Get("sslmode") != "disable" {
			t.Fatalf("URL %s: want the admin URL with the path /%s, its query kept", u, name)
		}
		var relations int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`).Scan(&relations); err != nil {
			t.Fatal(err)
		}
		if relations != 0 {
			t.Fatalf("the new database holds %d relations", relations)
		}
		var encoding string
		if err := conn.QueryRow(ctx, "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()").Scan(&encoding); err != nil {
			t.Fatal(err)
		}
		if encoding != "UTF8" {
			t.Fatalf("encoding %s, want UTF8", encoding)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE t (id bigint PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		if !databaseExists(t, adminConn, name) {
			t.Fatalf("database %s not found while the test runs", name)
		}
	})
	defer left.Close(ctx)
	if name == "" {
		t.Fatal("the subtest did not run")
	}
	if databaseExists(t, adminConn, name) {
		t.Fatalf("database %s is still there after its test passed", name)
	}
}

func TestFailedTestKeepsItsDatabase(t *testing.T) {
	URL(t) // skips or fails without a server
	adminConn := admin(t)
	f := &fakeTB{TB: t, name: t.Name(), failed: true}
	u := f.call()
	if u == "" || f.fatal != "" || f.skip != "" {
		t.Fatalf("URL = %q, fatal %q, skip %q", u, f.fatal, f.skip)
	}
	name := u[strings.LastIndex(u, "/")+1:]
	name, _, _ = strings.Cut(name, "?")
	t.Cleanup(func() {
		adminConn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	if !databaseExists(t, adminConn, name) {
		t.Fatalf("database %s of a failed test was dropped", name)
	}
	if len(f.logs) != 1 || !strings.Contains(f.logs[0], name) || !strings.Contains(f.logs[0], "kept") {
		t.Fatalf("logs %q: want one line naming the kept database %s", f.logs, name)
	}
}

func TestTemplateIsBuiltOnceAndCopied(t *testing.T) {
	URL(t) // skips or fails without a server
	adminConn := admin(t)
	ctx := context.Background()
	key := "pgtest " + t.Name() + " " + databaseName("") // a template of this run only
	built := 0
	prepare := func(u string) error {
		built++
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE prepared (id bigint PRIMARY KEY); INSERT INTO prepared VALUES (7)")
		return err
	}
	var urls []string
	for range 3 {
		urls = append(urls, Template(t, key, prepare))
	}
	if built != 1 {
		t.Fatalf("the template was built %d times, want once", built)
	}
	if urls[0] == urls[1] || urls[1] == urls[2] {
		t.Fatalf("copies share a database: %v", urls)
	}
	for i, u := range urls {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var id int
		if err := conn.QueryRow(ctx, "SELECT id FROM prepared").Scan(&id); err != nil || id != 7 {
			t.Fatalf("copy %d: %d %v, want what prepare left", i, id, err)
		}
		// A change to one copy is not in the next.
		if _, err := conn.Exec(ctx, "DELETE FROM prepared"); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
	}
	var building int
	if err := adminConn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname LIKE 'test_build_template%'").Scan(&building); err != nil || building != 0 {
		t.Fatalf("%d databases left from building the template (%v)", building, err)
	}
	sum := sha256.Sum256([]byte(key))
	name := "template_" + hex.EncodeToString(sum[:12])
	if !databaseExists(t, adminConn, name) {
		t.Fatalf("no template %s", name)
	}
	adminConn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize())

	// A prepare that fails fails the test that asked, and nothing is left.
	f := &fakeTB{TB: t, name: t.Name()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Template(f, key+" failing", func(string) error { return fmt.Errorf("injected") })
	}()
	<-done
	if !strings.Contains(f.fatal, "injected") {
		t.Fatalf("a failed prepare: fatal %q", f.fatal)
	}
	if err := adminConn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname LIKE 'test_build_template%'").Scan(&building); err != nil || building != 0 {
		t.Fatalf("%d databases left from a failed build (%v)", building, err)
	}
}
