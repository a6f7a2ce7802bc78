package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	// A write gets "busy, nothing saved, try again", not an internal error.
	err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en", Prefs: trustbot.DefaultPrefs()})
	if code := trustbot.ErrorCode(err); code != trustbot.EUNAVAILABLE {
		t.Fatalf("a write on a read-only database: %v (code %q), want %s", err, code, trustbot.EUNAVAILABLE)
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

// lockedBuffer is a log the store's goroutines and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// TestTipsShownWaitThroughAStorageFault: while the disk refuses writes,
// the "tip shown" records wait in memory (still read back), and the first
// failed flush is logged, once. When writes go through again, the records
// are written, and that is logged too: nothing is lost.
func TestTipsShownWaitThroughAStorageFault(t *testing.T) {
	sqlite.SetHealthTimes(t, time.Hour, 0)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	logs := &lockedBuffer{}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if err := db.WritePragma(ctx, "query_only(1)"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := db.RecordTipShown(ctx, alice, fmt.Sprintf("tip-%d", i), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a log of the failed flush", func() bool { return strings.Contains(logs.String(), "not written yet") })
	if tips, err := db.RecentTips(ctx, alice, 10); err != nil || len(tips) != 3 {
		t.Fatalf("tips shown during the fault: %v %v, want the 3 waiting", tips, err)
	}
	db.WritePragma(ctx, "query_only(0)")
	waitFor(t, "a log of the flush going through", func() bool { return strings.Contains(logs.String(), "written again") })
	if n := strings.Count(logs.String(), "not written yet"); n != 1 {
		t.Errorf("the failing flushes were logged %d times, want once", n)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM tips_shown WHERE user = ?`, alice.User).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d tips shown in the file after the fault (%v), want 3", n, err)
	}
}
