// Package sqlite stores trustbot's state in one SQLite file (modernc.org,
// pure Go): WAL, a busy timeout, foreign keys, a single writer connection
// with immediate transactions and a pool of readers, and numbered SQL
// migrations embedded in the binary.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/trustbot"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a statement waits for a lock held by another
// connection or process before it fails with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// DB is an open database. Its methods are safe for concurrent use.
type DB struct {
	Path string
	// Now returns the current time; tests replace it.
	Now func() time.Time

	// Keys seal free text (notes, labels, plan goals) at rest; nil or a
	// keyring without a current key stores it as it is.
	Keys *secret.Keyring
	// Logger and Metrics hear of rows skipped because they cannot be
	// read; both optional.
	Logger  *slog.Logger
	Metrics trustbot.Metrics

	write *sql.DB // one connection, BEGIN IMMEDIATE: writers queue, never BUSY
	read  *sql.DB // readers, in parallel with the writer thanks to WAL
	c     *caches // per-user reads kept in memory, "tip shown" records waiting
}

var _ trustbot.Store = (*DB)(nil)

// dsn builds a connection string. Pragmas go in the DSN so that every
// connection the pool opens gets them, not only the first.
func dsn(p string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Deleted content is overwritten with zeros, in tables, indexes and
	// freed pages alike: what a user erases does not linger in the file.
	q.Add("_pragma", "secure_delete(1)")
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at p and applies any
// pending migrations. The file is created 0600 whatever the umask, and an
// existing one readable by others is made private: SQLite gives its WAL
// and shared-memory files the same mode.
func Open(ctx context.Context, p string) (*DB, error) {
	if p == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if err := private(p); err != nil {
		return nil, err
	}
	db := &DB{Path: p, Now: time.Now}
	var err error
	if db.write, err = sql.Open("sqlite", dsn(p, true)); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", p, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, err
	}
	if db.read, err = sql.Open("sqlite", dsn(p, false)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.read.SetMaxOpenConns(4)
	db.c = newCaches()
	go db.flusher()
	return db, nil
}

// fileMode is the mode of every file holding personal data.
const fileMode = 0o600

// private creates the database file 0600 when it does not exist, and
// takes group and other permissions away from it, its WAL and its
// shared-memory file when they do.
func private(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sqlite: create %s: %w", p, err)
	}
	for _, name := range []string{p, p + "-wal", p + "-shm"} {
		st, err := os.Stat(name)
		if err != nil || st.Mode().Perm()&0o077 == 0 || !st.Mode().IsRegular() {
			continue
		}
		if err := os.Chmod(name, st.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("sqlite: %s is readable by others and cannot be made private: %w", name, err)
		}
	}
	return nil
}

// Close writes what waits in memory and closes every connection.
func (db *DB) Close() error {
	var errs []error
	if db.c != nil {
		errs = append(errs, db.closeCaches())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migration")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("sqlite: migration %s: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join("migration", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}

// migrate applies every migration not yet recorded, each in its own
// transaction with its record.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := db.apply(ctx, m); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, m Migration) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, db.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// Version returns the newest applied migration.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), formatError(err)
}

// formatError maps driver errors to domain errors: a database that stays
// locked past the busy timeout is EUNAVAILABLE, so the user is asked to try
// again rather than told something broke.
func formatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database did not answer in time: " + err.Error()}
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database busy: " + se.Error()}
		}
	}
	return err
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return formatError(err)
	}
	return formatError(tx.Commit())
}
