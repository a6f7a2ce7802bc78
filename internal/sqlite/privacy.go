package sqlite

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// wipeWAL checkpoints the WAL into the database file and truncates it to
// nothing. It waits (within the busy timeout, a few times over) for
// readers still on older pages to finish.
func (db *DB) wipeWAL(ctx context.Context) error {
	var busy, frames, done int
	for range 5 {
		err := db.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", db.FormatError(err))
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "checkpoint: readers kept the WAL busy"}
}

// Backup writes a consistent copy of the database to path while it is in
// use (VACUUM INTO), readable by its owner only (0600, whatever the
// umask). The file must not exist.
func (db *DB) Backup(ctx context.Context, path string) error {
	if err := db.Flush(ctx); err != nil {
		return fmt.Errorf("backup to %s: %w", path, db.FormatError(err))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	// SQLite writes into the empty file, keeping its mode.
	if _, err := db.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, db.FormatError(err))
	}
	return nil
}
