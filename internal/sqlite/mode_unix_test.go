//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/trustbot/trustbot/internal/sqlite"
)

// TestFilesArePrivate opens a database under a umask that lets everyone
// read what is created: the database, its WAL, its shared-memory file and
// a backup are still readable by their owner only, and a file an older
// version left readable is made private.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedUser(t, db, alice, "note")
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", backup} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want -rw-------", filepath.Base(p), st.Mode().Perm())
		}
	}
	if err := db.Backup(ctx, backup); err == nil {
		t.Error("a backup overwrote an existing file")
	}

	oldFile := filepath.Join(dir, "old.db")
	if err := os.WriteFile(oldFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.Open(ctx, oldFile)
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if st, _ := os.Stat(oldFile); st.Mode().Perm() != 0o600 {
		t.Errorf("an existing world-readable database stays %v", st.Mode().Perm())
	}
}
