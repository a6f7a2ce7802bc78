package testdb

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// fakeTB stands in for a test so that failures and skips can be watched
// without failing or skipping the real one.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs fn as the fake test, on a goroutine of its own since Fatalf
// and Skipf end it.
func (f *fakeTB) call(fn func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
}

func TestSwitch(t *testing.T) {
	for _, tc := range []struct {
		store, server  string
		postgres       bool
		fatal, skipped string
	}{
		{store: "", postgres: false},
		{store: "sqlite", server: "postgres://postgres@127.0.0.1:1/postgres", postgres: false},
		{store: "postgres", server: "postgres://postgres@127.0.0.1:1/postgres", postgres: true, skipped: "SQLite only, because"},
		{store: "postgres", fatal: pgtest.EnvURL},
		{store: "Postgres", fatal: "want postgres or sqlite"},
	} {
		t.Setenv(EnvStore, tc.store)
		t.Setenv(pgtest.EnvURL, tc.server)
		f := &fakeTB{TB: t}
		var got bool
		f.call(func(tb testing.TB) { got = Postgres(tb) })
		if tc.fatal != "" {
			if !strings.Contains(f.fatal, tc.fatal) || !strings.Contains(f.fatal, EnvStore) {
				t.Errorf("%s=%q %s=%q: failure %q, want one naming %s and %q", EnvStore, tc.store, pgtest.EnvURL, tc.server, f.fatal, EnvStore, tc.fatal)
			}
			continue
		}
		if f.fatal != "" || got != tc.postgres {
			t.Errorf("%s=%q: Postgres() = %v (failure %q), want %v", EnvStore, tc.store, got, f.fatal, tc.postgres)
		}
		f = &fakeTB{TB: t}
		f.call(func(tb testing.TB) { SQLiteOnly(tb, "because") })
		if !strings.Contains(f.skip, tc.skipped) || (tc.skipped == "") != (f.skip == "") || strings.Contains(f.skip, "\n") {
			t.Errorf("%s=%q: SQLiteOnly skipped with %q, want %q", EnvStore, tc.store, f.skip, tc.skipped)
		}
	}
}

// TestOpenGivesAMigratedPrivateDatabase: each test's database is its own,
// migrated and empty, on either store (make test-pg runs this on
// PostgreSQL).
func TestOpenGivesAMigratedPrivateDatabase(t *testing.T) {
	a, b := Open(t), Open(t)
	if a.DSN == b.DSN {
		t.Fatalf("two databases at %s", a.DSN)
	}
	if (a.SQLite == nil) != Postgres(t) {
		t.Fatalf("SQLite store %v on PostgreSQL %v", a.SQLite != nil, Postgres(t))
	}
	if !Postgres(t) {
		st, err := os.Stat(a.DSN)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("the SQLite file: %v %v, want mode 0600", st, err)
		}
	}
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	if err := a.SaveProfile(t.Context(), trustbot.Profile{UserKey: k, TZ: "UTC", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.QueryRow(t, `SELECT count(*) FROM profiles WHERE "user" = ?`, "U1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the profile saved, read directly: %d %v", n, err)
	}
	if err := b.QueryRow(t, `SELECT count(*) FROM profiles`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("another test's database holds %d profiles (%v)", n, err)
	}
	if v, err := b.Version(t.Context()); err != nil || v == 0 {
		t.Fatalf("schema version %d %v: not migrated", v, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
