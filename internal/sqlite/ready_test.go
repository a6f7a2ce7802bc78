package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// The readiness tests change package settings: not parallel.

func TestReadyOnAReadOnlyDatabase(t *testing.T) {
	sqlite.SetHealthTimes(t, time.Hour, 0)
	ctx := context.Background()
	db := MustOpen(t)
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("a new database is not ready: %v", err)
	}
	// The file turns read-only under the running bot (a remount, a
	// failing disk): the write probe sees it.
	if err := db.WritePragma(ctx, "query_only(1)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("ready on a read-only database: %v", err)
	}
	// It stays not ready for a while after the fault, not only while probing.
	db.WritePragma(ctx, "query_only(0)")
	if err := db.Ready(ctx); err == nil {
		t.Fatal("ready again at once after a storage fault")
	}
}

func TestReadyOnAFullDisk(t *testing.T) {
	sqlite.SetHealthTimes(t, time.Hour, time.Hour)
	ctx := context.Background()
	db := MustOpen(t)
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	// The file may not grow: SQLite answers SQLITE_FULL, as on a full disk.
	if err := db.WritePragma(ctx, "max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = db.InsertDelivery(ctx, trustbot.Delivery{UserKey: trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%04d", i)},
			Kind: "checkin", Occurrence: strings.Repeat("o", 200), DueAt: time.Now()})
	}
	if code := trustbot.ErrorCode(err); code != trustbot.EUNAVAILABLE {
		t.Fatalf("a write on a full disk: %v (code %q), want %s: busy, nothing saved, try again", err, code, trustbot.EUNAVAILABLE)
	}
	if err := db.Ready(ctx); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("ready on a full disk: %v", err)
	}
}

func TestReadyOnADamagedDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	seedUser(t, db, alice, "note")
	seedUser(t, db, bob, "note")
	db.Close() // checkpoints: everything is in the file
	CorruptTable(t, path, "deliveries")

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("a database with one damaged table does not open at all: %v", err)
	}
	defer db.Close()
	if db.Damaged() == nil {
		t.Fatal("the integrity check at open found nothing")
	}
	if err := db.Ready(ctx); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("ready on a damaged database: %v", err)
	}
}

// CorruptTable overwrites the first page of a table's b-tree with garbage,
// as a failing disk might, leaving the rest of the file as it was.
func CorruptTable(t *testing.T, path, table string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var root, size int64
	err = raw.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&root)
	if err == nil {
		err = raw.QueryRow(`PRAGMA page_size`).Scan(&size)
	}
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xfe\x00\x17", int(size)/3)), (root-1)*size); err != nil {
		t.Fatal(err)
	}
}
