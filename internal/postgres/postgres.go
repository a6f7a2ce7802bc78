// Package postgres stores trustbot's state in a PostgreSQL database that
// several trustbot processes may share: it opens the database with pgx
// (github.com/jackc/pgx/v5) through its database/sql driver, holds the
// migrations in PostgreSQL's SQL (the same version numbers as SQLite's),
// lets claimers run side by side on rows none of the others holds (FOR
// UPDATE SKIP LOCKED), migrates under an advisory lock, and maps
// PostgreSQL's transient errors onto the store's "busy, try again". The
// store itself (its SQL and rules) is internal/store's.
//
// pgx is used through database/sql rather than natively so that the store
// runs one body of code on SQLite and PostgreSQL alike; pgx's pool and
// native types would buy little for the short queries the store runs.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/trustbot"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// migrationLockKey names the advisory lock held while migrating: any
// number no other user of the database takes ("trustbot" in ASCII).
const migrationLockKey = 0x7472757374626f74

// Dialect is PostgreSQL's way with the store's SQL.
var Dialect = store.Dialect{
	Name:     "postgres",
	Numbered: true,
	// A row another claimer holds is passed over, not waited for: each
	// claimer takes rows none of the others has.
	ClaimLock:       func(alias string) string { return " FOR UPDATE OF " + alias + " SKIP LOCKED" },
	RowLock:         "FOR UPDATE",
	Error:           busyError,
	TablesSQL:       `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
	NowMicros:       "CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)",
	Greatest:        "greatest",
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
	// Held to the end of each migration's transaction: processes that
	// start at once migrate one after the other, and the later ones find
	// the work recorded.
	MigrationLock: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, migrationLockKey),
}

// ConnectTimeout bounds a connection attempt when the URL does not
// (connect_timeout). A variable for tests.
var ConnectTimeout = 10 * time.Second

// IdleInTransaction is how long the server lets a transaction of
// trustbot's wait on its client before it ends it (rolled back, the
// connection closed): a process stopped in the middle of one (SIGSTOP, a
// frozen host) would otherwise hold the rows it locked, such as a
// workspace's send slot, and every other replica with them, until it
// resumed. No transaction of trustbot's waits on its client for more than
// a moment. It is set on each connection, unless the URL or the role sets
// idle_in_transaction_session_timeout. A variable for tests.
var IdleInTransaction = 10 * time.Second

// MaxConns bounds the connections a process opens: a few claimers, the
// senders and the requests of one replica.
const MaxConns = 10

// DB is an open database. Its methods are safe for concurrent use.
type DB struct {
	*store.DB
	pool *sql.DB
	know int // the newest migration this trustbot has
}

// Open connects to the database at url and applies any pending
// migrations. It refuses a database migrated by a newer trustbot.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // pgx leaves the password out
	}
	if cfg.ConnectTimeout == 0 {
		// A server that does not answer is said so in seconds, not after
		// the system's TCP timeout of minutes.
		cfg.ConnectTimeout = ConnectTimeout
	}
	var opts []stdlib.OptionOpenDB
	if _, set := cfg.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		idle := strconv.FormatInt(IdleInTransaction.Milliseconds(), 10)
		opts = append(opts, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
			// A value the role or database sets is left as it is.
			_, err := c.Exec(ctx, `SELECT set_config('idle_in_transaction_session_timeout', $1, false)
				WHERE current_setting('idle_in_transaction_session_timeout') = '0'`, idle)
			return err
		}))
	}
	pool := stdlib.OpenDB(*cfg, opts...)
	pool.SetMaxOpenConns(MaxConns)
	pool.SetMaxIdleConns(MaxConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if _, err := store.Migrate(ctx, pool, Dialect, ms, time.Now()); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// Other replicas write the same rows: no cache (see internal/store).
	return &DB{DB: store.New(store.Config{Write: pool, Dialect: Dialect}), pool: pool, know: ms[len(ms)-1].Version}, nil
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]store.Migration, error) {
	return store.ReadMigrations(migrationFS, "migration")
}

// Close closes every connection.
func (db *DB) Close() error {
	return errors.Join(db.DB.Close(), db.pool.Close())
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.PingContext(ctx) }

// Ready reports whether the database takes writes now, and whether its
// schema is still one this trustbot knows: a newer trustbot may migrate
// the database while this one runs (a rolling upgrade), and this one is
// then not ready.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.Probe(ctx, time.Now()); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	v, err := db.Version(ctx)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if v > db.know {
		return &store.NewerSchemaError{Have: v, Know: db.know}
	}
	return nil
}

// busyError maps PostgreSQL's transient errors onto trustbot's
// EUNAVAILABLE, as SQLite's busy errors are: the transaction was rolled
// back, and trying again shortly works.
func busyError(err error) error {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case pe.Code == "40001", // serialization_failure
			pe.Code == "40P01",               // deadlock_detected
			pe.Code == "25P03",               // idle_in_transaction_session_timeout
			pe.Code == "55P03",               // lock_not_available (lock_timeout)
			pe.Code == "57014",               // query_canceled (statement_timeout)
			pe.Code == "57P01",               // admin_shutdown
			pe.Code == "57P02",               // crash_shutdown
			pe.Code == "57P03",               // cannot_connect_now
			strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"): // insufficient resources: disk full, too many connections
			return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database busy: " + pe.Error()}
		}
		return err
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database unreachable: " + err.Error()}
	}
	if errors.Is(err, driver.ErrBadConn) || pgconn.Timeout(err) {
		return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database connection lost: " + err.Error()}
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database connection lost: " + err.Error()}
	}
	return err
}
