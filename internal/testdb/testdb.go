// Package testdb opens the database a test runs on, chosen by one switch
// for the whole suite: a SQLite file in the test's temp folder by
// default, or a new PostgreSQL database when TRUSTBOT_TEST_STORE=postgres
// (on the server TRUSTBOT_TEST_PG names; make test-pg sets both). Either
// starts migrated, as a copy of a database migrated once, since applying
// every migration is most of the cost of a new database under the race
// detector. Tests that are about SQLite itself say so with SQLiteOnly.
package testdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/sqlite/sqlitetest"
	"github.com/trustbot/trustbot/internal/store"
)

// EnvStore names the switch: "postgres", or "sqlite" (the default).
const EnvStore = "TRUSTBOT_TEST_STORE"

// Postgres reports whether the tests run on PostgreSQL. An unknown value
// of TRUSTBOT_TEST_STORE fails the test, as does postgres without a
// server named by TRUSTBOT_TEST_PG: the run asked for PostgreSQL.
func Postgres(tb testing.TB) bool {
	tb.Helper()
	switch v := os.Getenv(EnvStore); v {
	case "", "sqlite":
		return false
	case "postgres":
		if os.Getenv(pgtest.EnvURL) == "" {
			tb.Fatalf("testdb: %s=postgres needs a PostgreSQL server named by %s (make test-pg starts one and sets both)", EnvStore, pgtest.EnvURL)
		}
		return true
	default:
		tb.Fatalf("testdb: %s=%q: want postgres or sqlite", EnvStore, v)
		return false
	}
}

// SQLiteOnly skips the test when the suite runs on PostgreSQL, with the
// reason it is about SQLite (its file, WAL, lock or backup).
func SQLiteOnly(tb testing.TB, why string) {
	tb.Helper()
	if Postgres(tb) {
		tb.Skipf("testdb: SQLite only, %s", why)
	}
}

// DSN returns what TRUSTBOT_DB is set to for a new, migrated database of
// this test: the path of a SQLite file in its temp folder, or the URL of
// a PostgreSQL database dropped when the test passes.
func DSN(tb testing.TB) string {
	tb.Helper()
	if Postgres(tb) {
		return pgtest.Template(tb, pgKey(tb), func(url string) error {
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				return err
			}
			return db.Close()
		})
	}
	return sqlitetest.Path(tb)
}

// EmptyDSN returns what TRUSTBOT_DB is set to for a database with nothing
// in it yet, for the tests of what happens on a first start: a path in
// the test's temp folder where no file is, or an empty PostgreSQL
// database.
func EmptyDSN(tb testing.TB) string {
	tb.Helper()
	if Postgres(tb) {
		return pgtest.URL(tb)
	}
	return filepath.Join(tb.TempDir(), "trustbot.db")
}

// DB is a store open for a test.
type DB struct {
	*store.DB
	// DSN is what TRUSTBOT_DB names the database by.
	DSN string
	// SQLite is the SQLite store, nil on PostgreSQL.
	SQLite *sqlite.DB
	close  func() error
	raw    *sql.DB
	rawErr error
	once   sync.Once
}

// Open opens a new, migrated database for the test (DSN), closed when
// the test ends.
func Open(tb testing.TB) *DB {
	tb.Helper()
	return OpenAt(tb, DSN(tb))
}

// OpenAt opens the database dsn names (a SQLite path or a PostgreSQL
// URL), closed when the test ends.
func OpenAt(tb testing.TB, dsn string) *DB {
	tb.Helper()
	ctx := context.Background()
	db := &DB{DSN: dsn}
	if isURL(dsn) {
		pg, err := postgres.Open(ctx, dsn)
		if err != nil {
			tb.Fatal(err)
		}
		db.DB, db.close = pg.DB, pg.Close
	} else {
		lite, err := sqlite.Open(ctx, dsn)
		if err != nil {
			tb.Fatal(err)
		}
		db.DB, db.SQLite, db.close = lite.DB, lite, lite.Close
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Close closes the store; a second call does nothing.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		err = db.close()
		if db.raw != nil {
			db.raw.Close()
		}
	})
	return err
}

// Exec runs one statement on the database directly, beside the store,
// with ? placeholders on either database.
func (db *DB) Exec(tb testing.TB, query string, args ...any) sql.Result {
	tb.Helper()
	res, err := db.Raw(tb).Exec(db.Dialect().Rebind(query), args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return res
}

// QueryRow runs one query on the database directly, with ? placeholders
// on either database.
func (db *DB) QueryRow(tb testing.TB, query string, args ...any) *sql.Row {
	tb.Helper()
	return db.Raw(tb).QueryRow(db.Dialect().Rebind(query), args...)
}

// Raw returns a connection pool of its own to the database, for reading
// and writing rows beside the store; closed with it.
func (db *DB) Raw(tb testing.TB) *sql.DB {
	tb.Helper()
	if db.raw == nil && db.rawErr == nil {
		db.raw, db.rawErr = Raw(db.DSN)
	}
	if db.rawErr != nil {
		tb.Fatal(db.rawErr)
	}
	return db.raw
}

// Raw opens a plain connection pool to the database dsn names.
func Raw(dsn string) (*sql.DB, error) {
	if isURL(dsn) {
		return sql.Open("pgx", dsn)
	}
	return sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)")
}

// isURL tells a PostgreSQL URL from a SQLite path, as TRUSTBOT_DB does.
func isURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// pgKey names the PostgreSQL template by the migrations it holds, so a
// changed migration builds a new one.
func pgKey(tb testing.TB) string {
	tb.Helper()
	ms, err := postgres.Migrations()
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%d %s %d\n%s\n", m.Version, m.Name, len(m.SQL), m.SQL)
	}
	return "trustbot migrated " + hex.EncodeToString(h.Sum(nil))
}
