// Package sqlite stores trustbot's state in one SQLite file (modernc.org,
// pure Go): WAL, a busy timeout, foreign keys, a single writer connection
// with immediate transactions and a pool of readers, numbered SQL
// migrations embedded in the binary, the lock that keeps a second process
// off the file, integrity and readiness checks, erasure down to the bytes
// on disk, and backups. The store itself (its SQL and rules) is
// internal/store's; this package says what SQLite does its own way.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/trustbot"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a statement waits for a lock held by another
// connection or process before it fails with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// DB is an open database. Its methods are safe for concurrent use.
type DB struct {
	*store.DB
	Path string
	// FaultHold is how long a write that failed for want of storage keeps
	// Ready failing, and ProbeEvery how often Ready writes a probe; Open
	// sets them (a minute, five seconds).
	FaultHold, ProbeEvery time.Duration

	write *sql.DB // one connection, BEGIN IMMEDIATE: writers queue, never BUSY
	read  *sql.DB // readers, in parallel with the writer thanks to WAL

	damaged error // what the integrity check at open found, if anything
	upkeep  error // a one-time step at open that failed, tried again at the next
	health  struct {
		sync.Mutex
		fault   error     // the last write that failed for want of storage
		faultAt time.Time // when
		probeAt time.Time // the last write probe that went through
	}
}

var _ trustbot.Store = (*DB)(nil)

// Dialect is SQLite's way with the store's SQL: one writer at a time, so
// claims need no row locks.
var Dialect = store.Dialect{
	Name:            "sqlite",
	OneProcess:      true,
	Error:           busyError,
	TablesSQL:       `SELECT name FROM sqlite_master WHERE type = 'table'`,
	RowOrder:        "ORDER BY rowid",
	NowMicros:       "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)",
	Greatest:        "max",
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`,
}

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
	db := &DB{Path: p, FaultHold: faultHold, ProbeEvery: probeEvery}
	var err error
	if db.write, err = openPool(dsn(p, true)); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", p, err)
	}
	db.damaged = db.quickCheck(ctx)
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		if readOnly(err) {
			return nil, &ReadOnlyError{Path: p, Err: err}
		}
		return nil, err
	}
	if db.read, err = openPool(dsn(p, false)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.read.SetMaxOpenConns(4)
	// This process is the only one that writes the file while it runs
	// the bot (Lock): it may cache.
	db.DB = store.New(store.Config{Write: db.write, Read: db.read, Dialect: Dialect, Cache: true,
		Erased: db.wipeWAL, WriteFailed: db.noteWrite, FlushTimeout: BusyTimeout})
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

// Writable reports whether this process may write the database file.
// SQLite opens a file it may not write (its file system mounted
// read-only, or its mode) for reading only, and every write then fails:
// a command that writes checks first, and says so.
func (db *DB) Writable() error {
	f, err := os.OpenFile(db.Path, os.O_RDWR, 0)
	if errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission) {
		return &ReadOnlyError{Path: db.Path, Err: err}
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return f.Close()
}

// Close writes what waits in memory and closes every connection.
func (db *DB) Close() error {
	var errs []error
	if db.DB != nil {
		errs = append(errs, db.DB.Close())
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

// quickCheck runs SQLite's quick_check: it reads every page (a second or
// so for a million rows) and reports damage it finds.
func (db *DB) quickCheck(ctx context.Context) error {
	found, err := db.quickCheckLines(ctx)
	if err != nil {
		return fmt.Errorf("integrity check: the database is damaged or unreadable: %w", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("integrity check: the database is damaged: %s", strings.Join(found, "; "))
	}
	return nil
}

func (db *DB) quickCheckLines(ctx context.Context) ([]string, error) {
	rows, err := db.write.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" && len(found) < 3 {
			found = append(found, line)
		}
	}
	return found, rows.Err()
}

// Damaged returns what the integrity check at open found (nil: nothing).
func (db *DB) Damaged() error { return db.damaged }

// Upkeep returns the one-time step at open that failed, if any (nil:
// none). The database works without it; it is tried again at the next open.
func (db *DB) Upkeep() error { return db.upkeep }

// faultHold and probeEvery are the defaults of DB.FaultHold and
// DB.ProbeEvery. Variables for tests.
var (
	faultHold  = time.Minute
	probeEvery = 5 * time.Second
)

// Ready reports whether the database can be used now: the integrity check
// at open found nothing, no write failed for want of storage (a full disk,
// a read-only or damaged file, an I/O error) in the last minute, and a
// write goes through (probed at most every few seconds).
func (db *DB) Ready(ctx context.Context) error {
	if db.damaged != nil {
		return db.damaged
	}
	now := time.Now()
	db.health.Lock()
	fault, faultAt, probeAt := db.health.fault, db.health.faultAt, db.health.probeAt
	db.health.Unlock()
	if fault != nil && now.Sub(faultAt) < db.FaultHold {
		return fmt.Errorf("a write failed %s ago: %w", now.Sub(faultAt).Round(time.Second), fault)
	}
	if now.Sub(probeAt) < db.ProbeEvery && probeAt.After(faultAt) {
		return nil
	}
	if err := db.Probe(ctx, now); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	db.health.Lock()
	db.health.probeAt = now
	db.health.Unlock()
	return nil
}

// storageFault reports whether err says the storage failed: the disk is
// full, the file is read-only or damaged, or an I/O error.
func storageFault(err error) bool {
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}

// readOnly reports whether err says that SQLite could open the file for
// reading only (SQLITE_READONLY: the file or its file system is
// read-only).
func readOnly(err error) bool {
	se, ok := errors.AsType[*sqlite.Error](err)
	return ok && se.Code()&0xff == sqlite3.SQLITE_READONLY
}

// noteWrite remembers a write that failed for want of storage.
func (db *DB) noteWrite(err error) {
	if err == nil || !storageFault(err) {
		return
	}
	db.health.Lock()
	db.health.fault, db.health.faultAt = err, time.Now()
	db.health.Unlock()
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]store.Migration, error) {
	return store.ReadMigrations(migrationFS, "migration")
}

// migrate applies every migration not yet recorded, then the one-time
// steps not yet done.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	before, err := store.Migrate(ctx, db.write, Dialect, ms, time.Now())
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS upkeep (
		name TEXT PRIMARY KEY, done_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("sqlite: upkeep table: %w", err)
	}
	// A new database has nothing from before secure_delete was on.
	db.upkeep = db.once(ctx, "vacuum-after-secure-delete", before == 0, db.vacuum)
	return nil
}

// once runs step unless it is recorded as done, and records it when it
// succeeds (or, with skip, without running it). A step that fails is tried
// again at the next open.
func (db *DB) once(ctx context.Context, name string, skip bool, step func(context.Context) error) error {
	var n int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM upkeep WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	if !skip {
		if err := step(ctx); err != nil {
			return fmt.Errorf("sqlite: %s: %w", name, err)
		}
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO upkeep (name, done_at) VALUES (?, ?)`, name, time.Now().Unix()); err != nil {
		return fmt.Errorf("sqlite: %s: %w", name, err)
	}
	return nil
}

// vacuum rebuilds the database file and empties the WAL. Free pages left
// by deletes made before secure_delete was on may still hold what was
// deleted; a rebuild writes every page anew and drops the free ones. It
// needs free disk space about the size of the database, and time in
// proportion to it, once.
func (db *DB) vacuum(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
		return busyError(err)
	}
	return db.wipeWAL(ctx)
}

// WritePragma runs a pragma on the writer's connection. query_only(1)
// makes SQLite refuse every write with SQLITE_READONLY, as it does on a
// file it opened for reading only: a fault test refuses writes with it.
func (db *DB) WritePragma(ctx context.Context, pragma string) error {
	_, err := db.write.ExecContext(ctx, `PRAGMA `+pragma)
	return err
}

// busyError maps SQLite's errors onto trustbot's: a database that stays
// locked past the busy timeout is EUNAVAILABLE, so the user is asked to try
// again rather than told something broke.
func busyError(err error) error {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database busy: " + se.Error()}
		case sqlite3.SQLITE_FULL:
			// Nothing was written; once there is room, trying again works.
			return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "disk full: " + se.Error()}
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR:
			// The disk refused the write (remounted read-only, failing):
			// the transaction was rolled back, and trying again works
			// once the disk does. /readyz says not ready meanwhile.
			return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "storage refused the write: " + se.Error()}
		}
	}
	return err
}
