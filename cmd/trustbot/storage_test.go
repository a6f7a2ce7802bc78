package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// storeOf runs the bot on path and returns the store serve opened: the
// test plays a storage fault on it. A write that fails for want of storage
// keeps the bot not ready for a moment only, so that the test sees it come
// back.
func storeOf(t *testing.T, path string, extra map[string]string) (*Bot, *sqlite.DB) {
	t.Helper()
	testdb.SQLiteOnly(t, "the storage faults are played on the SQLite file and its pragmas")
	stores := make(chan *sqlite.DB, 1)
	hook := func(db *sqlite.DB) {
		if db.Path == path {
			db.FaultHold, db.ProbeEvery = 300*time.Millisecond, 0
			stores <- db
		}
	}
	storeOpened.Store(&hook)
	t.Cleanup(func() { storeOpened.Store(nil) })
	env := map[string]string{"TRUSTBOT_DB": path}
	for k, v := range extra {
		env[k] = v
	}
	bot := MustRunBot(t, env)
	bot.DB = path
	select {
	case db := <-stores:
		return bot, db
	case <-time.After(patience):
		t.Fatal("serve opened no store")
	}
	return nil, nil
}

// readyz returns /readyz's status and body.
func (b *Bot) readyz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + b.HTTP + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady waits until /readyz says ready.
func (b *Bot) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		code, body := b.readyz(t)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready again after the fault cleared: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// storageFault is a fault of the disk under the running bot: on sets it,
// off clears it.
type storageFault struct {
	name    string
	on, off func(t *testing.T)
	readyz  string // what /readyz says meanwhile
}

// testStorageFault drives the real program through a storage fault. Before
// it, a user sets up a check-in and a journey. During it, a command that
// must write gets the localized "busy, nothing was saved, try again"
// answer (never "something went wrong"), a tip is still shown (answered
// from memory; its record waits), and /readyz says not ready. After it,
// /readyz says ready, the same command works, and nothing was lost: the
// check-in, the journey and the tip shown during the fault are all there.
func testStorageFault(t *testing.T, bot *Bot, f storageFault) {
	lib := mustLibrary(t)
	ctx := context.Background()
	if _, r := bot.Slash(t, jaUser, "振り返り 毎週 金 16:00"); !strings.Contains(r.raw, lib.T(trustbot.Japanese, "checkin.saved")) {
		t.Fatalf("check-in not saved: %s", r.raw)
	}
	if _, r := bot.Slash(t, jaUser, "断られた 山田さん"); !strings.Contains(r.raw, "山田さん") {
		t.Fatalf("journey not started: %s", r.raw)
	}
	bot.Slash(t, enUser, "help") // caches the profile
	bot.waitReady(t)

	f.on(t)
	busy := map[trustbot.Lang]string{trustbot.Japanese: lib.T(trustbot.Japanese, "error.busy"), trustbot.English: lib.T(trustbot.English, "error.busy")}
	for _, c := range []struct {
		user, text string
		lang       trustbot.Lang
	}{{jaUser, "言語 en", trustbot.Japanese}, {enUser, "checkin weekly tue 9:30", trustbot.English}} {
		_, r := bot.Slash(t, c.user, c.text)
		if !strings.Contains(r.raw, jsonText(busy[c.lang])) {
			t.Errorf("/trust %s during %s: %s; want %q", c.text, f.name, r.raw, busy[c.lang])
		}
		if strings.Contains(r.raw, jsonText(lib.T(c.lang, "error.internal"))) {
			t.Errorf("/trust %s during %s says something went wrong", c.text, f.name)
		}
	}
	if _, r := bot.Slash(t, enUser, "tip"); strings.Contains(r.raw, jsonText(busy[trustbot.English])) {
		t.Errorf("a tip during %s: %s", f.name, r.raw)
	}
	code, body := bot.readyz(t)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, f.readyz) {
		t.Errorf("/readyz during %s: %d %s; want 503 saying %q", f.name, code, body, f.readyz)
	}

	f.off(t)
	bot.waitReady(t)
	if _, r := bot.Slash(t, jaUser, "言語 en"); !strings.Contains(r.raw, "Language set to") {
		t.Fatalf("after %s, the command still fails: %s", f.name, r.raw)
	}
	if _, r := bot.Slash(t, enUser, "checkin weekly tue 9:30"); !strings.Contains(r.raw, jsonText(lib.T(trustbot.English, "checkin.saved"))) {
		t.Fatalf("after %s, the check-in is not saved: %s", f.name, r.raw)
	}
	if _, r := bot.Slash(t, jaUser, "checkin status"); !strings.Contains(r.raw, "16:00") {
		t.Errorf("after %s, the check-in set before is gone: %s", f.name, r.raw)
	}
	if _, r := bot.Slash(t, jaUser, "journeys"); !strings.Contains(r.raw, "山田さん") {
		t.Errorf("after %s, the journey started before is gone: %s", f.name, r.raw)
	}
	// The tip shown during the fault waited in memory and is written now.
	deadline := time.Now().Add(patience)
	for {
		raw := openRaw(t, bot.DB)
		var n int
		err := raw.QueryRowContext(ctx, `SELECT count(*) FROM tips_shown WHERE user = ?`, enUser).Scan(&n)
		raw.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tip shown during %s was never recorded\n%s", f.name, bot.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadOnlyDatabaseDuringServe: SQLite refuses every write of the
// running bot with SQLITE_READONLY, as it does on a file it could open for
// reading only. query_only on the bot's own writer connection is SQLite's
// switch for that refusal, not the kernel's: the faults the kernel makes
// are played by TestReadOnlyDatabaseAtStart (a read-only file and file
// system, EROFS) and TestWritesRefusedDuringServe (every write refused
// under the running bot).
func TestReadOnlyDatabaseDuringServe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	bot, store := storeOf(t, path, nil)
	pragma := func(p string) func(*testing.T) {
		return func(t *testing.T) {
			if err := store.WritePragma(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}
	}
	testStorageFault(t, bot, storageFault{name: "a read-only database", on: pragma("query_only(1)"), off: pragma("query_only(0)"), readyz: "readonly"})
}
