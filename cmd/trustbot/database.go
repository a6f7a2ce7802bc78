package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// database is what the program needs of the store, whichever database
// holds it.
type database interface {
	trustbot.Store
	// Shared is the store's common part: keys, logger and metrics.
	Shared() *store.DB
	Close() error
	Ready(ctx context.Context) error
	Version(ctx context.Context) (int, error)
	Purge(ctx context.Context, before time.Time) (int64, error)
	Rekey(ctx context.Context) (changed, skipped int, err error)
	OtherTeams(ctx context.Context, team string) (bool, error)
}

var (
	_ database = (*sqlite.DB)(nil)
	_ database = (*postgres.DB)(nil)
)

// lockDB makes this process the only one that runs the bot on a SQLite
// file (sqlite.Lock). A PostgreSQL database has no such lock: processes
// on it claim their work row by row, none taking what another holds.
func lockDB(cfg Config, what string) (release func(), err error) {
	if kind, _ := cfg.Database(); kind == Postgres {
		return func() {}, nil
	}
	return sqlite.Lock(cfg.DB, what)
}

// openStore opens the database with the configured encryption keys: a
// PostgreSQL database when TRUSTBOT_DB is its URL, else a SQLite file. An
// empty file where the database should be is opened as a new database,
// and a damaged one is opened as it is, but both are said loudly: they
// may mean data was lost.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (database, error) {
	if kind, conn := cfg.Database(); kind == Postgres {
		db, err := postgres.Open(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.DBName(), err)
		}
		db.Keys, db.Logger = cfg.Keys, log.With("component", "postgres")
		return db, nil
	}
	if st, err := os.Stat(cfg.DB); err == nil && st.Mode().IsRegular() && st.Size() == 0 {
		log.Warn("the database file is empty: starting a new database in it; if it should hold data, stop and restore it from a backup", "path", cfg.DBName())
	}
	store, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	store.Keys, store.Logger = cfg.Keys, log.With("component", "sqlite")
	if err := store.Upkeep(); err != nil {
		log.Warn("a one-time upkeep step failed; the database works, and it is tried again at the next start", "path", cfg.DBName(), "err", err)
	}
	if err := store.Damaged(); err != nil {
		log.Error("the database is damaged: not ready until it is restored from a backup", "path", cfg.DBName(), "err", err)
	}
	if f := storeOpened.Load(); f != nil {
		(*f)(store)
	}
	return store, nil
}

// storeOpened, when set, is shown every SQLite store a command opens,
// before the command uses it: the storage fault tests reach the running
// program's store through it. Unset outside tests.
var storeOpened atomic.Pointer[func(*sqlite.DB)]

// sqliteOnly refuses a command that works on a SQLite file (its backup)
// when the database is PostgreSQL, saying what to do instead.
func sqliteOnly(cfg Config, what, instead string) error {
	if kind, _ := cfg.Database(); kind == Postgres {
		return fmt.Errorf("%s works on a SQLite file, and %s is a PostgreSQL database: %s", what, cfg.DBName(), instead)
	}
	return nil
}

// openLocked opens the store for a command that sends and holds the
// instance lock (lockDB): on SQLite the lock proves every replica recorded
// in the file gone, so their leases end now, and what they left sending is
// settled at once rather than when their leases run out.
func openLocked(ctx context.Context, cfg Config, log *slog.Logger) (database, error) {
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if s, ok := db.(*sqlite.DB); ok {
		if err := s.Writable(); err != nil {
			db.Close()
			return nil, err
		}
	}
	if kind, _ := cfg.Database(); kind != Postgres {
		if err := db.EndReplicas(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}
