// Package store is trustbot's state kept in a SQL database, written once
// for every database it runs on: the SQL the databases share (with ?
// placeholders, numbered for the databases that want $1, $2…), the rules
// (default preferences, delivery kinds and occurrence keys, how answers
// merge, sealing free text with the encryption key, fencing every change
// of a delivery's state by its attempt), the migration runner, and the
// per-user caches that a store written by one process alone may keep.
// internal/sqlite and internal/postgres open their database, hold their
// migrations and say, through a Dialect, what is theirs alone.
//
// A claim is one transaction over rows the dialect locks, and every later
// change of a delivery's state names the attempt that took it. An attempt
// names the replica (a process sharing the database) that made it, and
// each replica holds a lease it renews: what a replica whose lease ended
// left sending is stale at once (replica.go).
package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Dialect is what a database does its own way.
type Dialect struct {
	// Name names the database in messages: "sqlite", "postgres".
	Name string
	// OneProcess: the database is held by one process at a time (SQLite's
	// instance lock), so what replicas would share through it, such as
	// the requests already handled, may stay in that process's memory.
	OneProcess bool
	// Numbered databases take $1, $2… for placeholders: the ? of the
	// shared SQL is rebound.
	Numbered bool
	// ClaimLock returns what ends the SELECT of a claim whose rows (of the
	// table under alias) are moved on in the same transaction: "FOR UPDATE
	// OF s SKIP LOCKED" where claimers run side by side, "" where one
	// writer at a time is the rule.
	ClaimLock func(alias string) string
	// RowLock ends a SELECT of a row that the transaction then writes
	// from what it read ("FOR UPDATE"); "" where writers take turns.
	RowLock string
	// Error maps the driver's errors onto trustbot's: a database busy or
	// gone for a moment is EUNAVAILABLE, so that the user is asked to try
	// again. It returns any other error as it is.
	Error func(error) error
	// TablesSQL lists the tables of the schema, one name a row.
	TablesSQL string
	// RowOrder ends a SELECT of a whole table so that rows come in the
	// order they were written ("ORDER BY rowid"), or "" when no such
	// order is kept.
	RowOrder string
	// NowMicros is the database's clock in Unix microseconds, and
	// Greatest its function for the greatest of its arguments.
	NowMicros, Greatest string
	// MigrationsTable creates schema_migrations when it does not exist.
	MigrationsTable string
	// MigrationLock, when set, is the first statement of every migration
	// transaction: processes that start at once migrate one after the
	// other, each seeing what the one before recorded.
	MigrationLock string
}

// Config is what New needs.
type Config struct {
	// Write takes write transactions; Read the reads (they may be one pool).
	Write, Read *sql.DB
	Dialect     Dialect
	// Cache keeps per-user reads in memory and writes "tip shown" records
	// in groups (cache.go). Only a store that no other process writes may
	// cache: another writer's changes would not be seen.
	Cache bool
	// Erased, when set, runs after Forget and Purge deleted rows, to take
	// them off the storage too (SQLite empties its WAL).
	Erased func(context.Context) error
	// WriteFailed, when set, hears of every write transaction that failed.
	WriteFailed func(error)
	// FlushTimeout bounds one group write of "tip shown" records.
	FlushTimeout time.Duration
}

// DB is an open store. Its methods are safe for concurrent use.
type DB struct {
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Keys seal free text (notes, labels, plan goals) at rest; nil or a
	// keyring without a current key stores it as it is.
	Keys *secret.Keyring
	// Logger and Metrics hear of rows skipped because they cannot be
	// read, and of "tip shown" records that wait for the disk; both
	// optional.
	Logger  *slog.Logger
	Metrics trustbot.Metrics

	write *sql.DB
	read  reader
	d     *Dialect
	cfg   Config
	c     *caches // nil when the store does not cache
	tips  tipTrim

	// betweenTipReads, when set (tests only), runs between the two reads
	// of RecentTips: the records waiting, then the table.
	betweenTipReads func()
}

var _ trustbot.Store = (*DB)(nil)

// New returns a store on open pools whose schema is migrated.
func New(cfg Config) *DB {
	d := cfg.Dialect
	if d.ClaimLock == nil {
		d.ClaimLock = func(string) string { return "" }
	}
	if cfg.Read == nil {
		cfg.Read = cfg.Write
	}
	if cfg.FlushTimeout == 0 {
		cfg.FlushTimeout = 5 * time.Second
	}
	db := &DB{Now: time.Now, write: cfg.Write, d: &d, cfg: cfg, tips: tipTrim{since: map[trustbot.UserKey]int{}}}
	db.read = reader{cfg.Read, db.d}
	if cfg.Cache {
		db.c = newCaches()
		go db.flusher()
	}
	return db
}

// Close writes what waits in memory. The pools stay open: they belong to
// whoever opened them.
func (db *DB) Close() error {
	if db.c == nil {
		return nil
	}
	return db.closeCaches()
}

// Dialect returns the database's dialect.
func (db *DB) Dialect() Dialect { return *db.d }

// formatError maps driver errors to domain errors: a database that stays
// busy past its timeout, or does not answer in time, is EUNAVAILABLE, so
// the user is asked to try again rather than told something broke.
func (db *DB) formatError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*trustbot.Error](err); ok {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database did not answer in time: " + err.Error()}
	}
	if db.d.Error != nil {
		return db.d.Error(err)
	}
	return err
}

// Tx runs fn in a write transaction and commits it.
func (db *DB) Tx(ctx context.Context, fn func(*Tx) error) error {
	err := db.commit(ctx, fn)
	if err != nil && db.cfg.WriteFailed != nil {
		db.cfg.WriteFailed(err)
	}
	return db.formatError(err)
}

func (db *DB) commit(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(&Tx{tx, db.d}); err != nil {
		return err
	}
	return tx.Commit()
}

// exec runs one write statement and reports how many rows it changed.
func (db *DB) exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// Tx is a write transaction that takes the shared SQL, ? placeholders
// and all.
type Tx struct {
	tx *sql.Tx
	d  *Dialect
}

func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

// reader runs the shared SQL on the read pool.
type reader struct {
	db *sql.DB
	d  *Dialect
}

func (r reader) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, r.d.rebind(q), args...)
}

func (r reader) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.db.QueryRowContext(ctx, r.d.rebind(q), args...)
}

// rebound keeps the numbered form of every query text seen: the store
// runs a few dozen.
var rebound sync.Map

// rebind numbers the ? placeholders of q for a numbered dialect. A ?
// inside a quoted string or identifier is left alone.
func (d *Dialect) rebind(q string) string {
	if !d.Numbered {
		return q
	}
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	rebound.Store(q, b.String())
	return b.String()
}

// Version returns the newest applied migration.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), db.formatError(err)
}

// Probe writes the one row kept for it: a write that goes through says
// the database takes writes.
func (db *DB) Probe(ctx context.Context, now time.Time) error {
	return db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, now.Unix())
		return err
	})
}

// FormatError maps an error of the database onto trustbot's, as the
// store's own methods do (EUNAVAILABLE for a database busy for now).
func (db *DB) FormatError(err error) error { return db.formatError(err) }

// OneProcess reports whether one process at a time holds the database.
func (db *DB) OneProcess() bool { return db.d.OneProcess }

// Shared returns the store every database kind shares: its Keys, Logger
// and Metrics are set through it, whichever database holds it.
func (db *DB) Shared() *DB { return db }

// Rebind returns q as the dialect takes it: its ? placeholders numbered
// for a numbered dialect.
func (d Dialect) Rebind(q string) string { return d.rebind(q) }
