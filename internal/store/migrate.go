package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered schema change. Every database has the same
// numbers, each in its own SQL.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ReadMigrations reads the files NNNN_name.sql of dir, in order.
func ReadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}

// NewerSchemaError says that the database was migrated by a newer
// trustbot than this one: running on it could misread or damage it.
type NewerSchemaError struct {
	Have, Know int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("the database schema is at version %d, newer than version %d, the newest this trustbot knows: run the trustbot release that migrated it (or a later one), not this older one", e.Have, e.Know)
}

// Migrate applies every migration of ms not yet recorded, each in its own
// transaction with its record, after the dialect's migration lock. It
// refuses a database whose schema is newer than ms, and returns how many
// migrations were recorded before.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, ms []Migration, now time.Time) (before int, err error) {
	var have sql.NullInt64
	err = migrationTx(ctx, db, d, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, d.MigrationsTable); err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		return tx.QueryRowContext(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&before, &have)
	})
	if err != nil {
		return 0, err
	}
	if len(ms) > 0 && int(have.Int64) > ms[len(ms)-1].Version {
		return before, &NewerSchemaError{Have: int(have.Int64), Know: ms[len(ms)-1].Version}
	}
	for _, m := range ms {
		err := migrationTx(ctx, db, d, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, d.rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.Version, m.Name, now.Unix())
			return err
		})
		if err != nil {
			return before, fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return before, nil
}

func migrationTx(ctx context.Context, db *sql.DB, d Dialect, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.MigrationLock); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
