package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/sqlite/sqlitetest"
	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/store/storetest"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestContract runs the store's contract on SQLite files.
func TestContract(t *testing.T) {
	var where storetest.Where
	open := func(t testing.TB, path string) *store.DB {
		t.Helper()
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return where.Put(db.DB, path)
	}
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, storetest.Harness{
		Version: ms[len(ms)-1].Version,
		// The contract is about the store, not the migrations (TestMigrations
		// is): each test starts from a copy of a file migrated once.
		Open:  func(t testing.TB) *store.DB { return open(t, sqlitetest.Path(t)) },
		Again: func(t testing.TB, db *store.DB) *store.DB { return open(t, where.Of(db)) },
		SQL: func(t testing.TB, db *store.DB) *sql.DB {
			raw, err := sql.Open("sqlite", "file:"+where.Of(db)+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return raw
		},
		Bytes: func(t testing.TB, db *store.DB) []byte { return fileBytes(t, where.Of(db)) },
	})
}

// fileBytes reads the database file, its WAL and its shared-memory file,
// as an attacker with the disk would.
func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// The contract's helpers, as this package's tests name them.
var (
	weekAdvance    = storetest.WeekAdvance
	keyring        = storetest.Keyring
	claimedJourney = storetest.ClaimedJourney
)

const lookalike = storetest.Lookalike

func seedUser(t *testing.T, db *sqlite.DB, k trustbot.UserKey, note string) {
	t.Helper()
	storetest.SeedUser(t, db.DB, k, note)
}
