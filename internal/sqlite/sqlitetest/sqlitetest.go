// Package sqlitetest gives tests new SQLite files with the schema in
// place, without applying every migration to each.
package sqlitetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/trustbot/trustbot/internal/sqlite"
)

var (
	once     sync.Once
	template []byte
	err      error
)

// Path returns the path of a new database file in tb's temp folder, at
// the newest schema version: a copy of a file migrated once per test
// binary. Applying every migration is most of the cost of a new database
// under the race detector; tests about a new or an old file start from
// nothing instead.
func Path(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { template, err = migrated() })
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "trustbot.db")
	if err := os.WriteFile(p, template, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Open opens a store on a new Path, closed when the test ends.
func Open(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), Path(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// migrated returns the bytes of a file with every migration applied.
func migrated() ([]byte, error) {
	dir, err := os.MkdirTemp("", "trustbot-schema-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "trustbot.db")
	db, err := sqlite.Open(context.Background(), p)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(p + "-wal"); err == nil {
		return nil, fmt.Errorf("%s-wal is left after closing: a copy would miss it", p)
	}
	return os.ReadFile(p)
}
