package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// MustOpen opens a database file in a fresh temp dir.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "trustbot.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var (
	alice = trustbot.UserKey{Team: "T1", User: "UALICE"}
	bob   = trustbot.UserKey{Team: "T1", User: "UBOB"}
)

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v, ms[len(ms)-1].Version; got != want {
		t.Fatalf("version = %d, want %d", got, want)
	}
	if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Opening again applies nothing twice and keeps the data.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Settings(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if s.Lang != "en" {
		t.Fatalf("lang after reopen = %q, want en", s.Lang)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

// TestConcurrentWriters is the SQLITE_BUSY trap: read-then-write from
// many goroutines must never fail.

// TestLockedDatabase holds the write lock from another connection past the
// busy timeout: the store answers EUNAVAILABLE (the user is asked to try
// again) instead of an internal error, and works again once the lock goes.
func TestLockedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the busy timeout")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"})
	if got := trustbot.ErrorCode(err); got != trustbot.EUNAVAILABLE {
		t.Fatalf("write under a held lock: code %q (%v), want %q", got, err, trustbot.EUNAVAILABLE)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"}); err != nil {
		t.Fatalf("write after the lock was released: %v", err)
	}
}

// TestMoveJourneyIsFenced: a journey's follow-up moves only while it is
// still the one planned: not once a pass has claimed it (the step moved
// on), nor for another user.

// TestRefusesANewerSchema: a database migrated by a newer trustbot is not
// opened by an older one, which says both versions.
func TestRefusesANewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	ms, _ := sqlite.Migrations()
	_, err = sqlite.Open(ctx, path)
	if err == nil {
		t.Fatal("opened a database with a newer schema")
	}
	for _, want := range []string{"9999", fmt.Sprint(ms[len(ms)-1].Version)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name version %s", err, want)
		}
	}
}

// TestSendRateStaysInMemory: one process runs on a SQLite file, so it
// paces its sends in memory, with no write per send.
func TestSendRateStaysInMemory(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "trustbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if s := db.SendSlots(); s != nil {
		t.Fatalf("send slots in a SQLite store: %v", s)
	}
}
