package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// testFileLinks: a file kept behind a link is taken once, by any store
// on the database (another replica), and not after its link expired or
// was dropped; a user keeps only their newest few; its name and data are
// sealed, and the database holds no working link; expired files are
// purged, the others kept.
func testFileLinks(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	db.Keys = Keyring(t, 3)
	other := h.Again(t, db)
	other.Keys = db.Keys
	now := time.Now()
	// The store's clock moves on a millisecond a file, which orders them.
	clock := now
	db.Now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	data := []byte(`{"user":"UALICE","note":"アリスの書き出し"}`)
	put := func(token string, owner trustbot.UserKey, expires time.Time) {
		t.Helper()
		if err := db.PutFile(ctx, trustbot.LinkedFile{Token: token, Owner: owner, Name: "trustbot-export-" + owner.User + ".json", Data: data, Expires: expires}); err != nil {
			t.Fatal(err)
		}
	}
	take := func(s interface {
		TakeFile(context.Context, string, time.Time) (trustbot.LinkedFile, bool, error)
	}, token string, at time.Time) (trustbot.LinkedFile, bool) {
		t.Helper()
		f, ok, err := s.TakeFile(ctx, token, at)
		if err != nil {
			t.Fatal(err)
		}
		return f, ok
	}

	put("token-alice", alice, now.Add(10*time.Minute))
	raw := h.SQL(t, db)
	var stored string
	if err := raw.QueryRowContext(ctx, `SELECT token_hash || ' ' || name || ' ' || data FROM file_links`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"token-alice", "trustbot-export", "アリスの書き出し"} {
		if strings.Contains(stored, plain) {
			t.Errorf("the row holds %q in the clear: %s", plain, stored)
		}
	}
	if _, ok := take(other, "token-bob", now); ok {
		t.Fatal("a token that names no file took one")
	}
	f, ok := take(other, "token-alice", now)
	if !ok || f.Owner != alice || f.Name != "trustbot-export-UALICE.json" || !bytes.Equal(f.Data, data) || !f.Expires.Equal(now.Add(10*time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("the file taken by another store: %+v %v", f, ok)
	}
	if _, ok := take(db, "token-alice", now); ok {
		t.Fatal("a link worked twice")
	}

	put("token-late", alice, now.Add(time.Minute))
	if _, ok := take(db, "token-late", now.Add(time.Minute)); ok {
		t.Fatal("a link worked once it had expired")
	}
	put("token-dropped", alice, now.Add(10*time.Minute))
	if err := db.DropFile(ctx, "token-dropped"); err != nil {
		t.Fatal(err)
	}
	if _, ok := take(db, "token-dropped", now); ok {
		t.Fatal("a dropped link worked")
	}

	// Bob asks four times: his newest three links work.
	for i, token := range []string{"bob-1", "bob-2", "bob-3", "bob-4"} {
		put(token, bob, now.Add(time.Duration(10+i)*time.Minute))
	}
	if _, ok := take(db, "bob-1", now); ok {
		t.Fatal("a user's oldest link of four still works")
	}
	for _, token := range []string{"bob-3", "bob-4"} {
		if _, ok := take(db, token, now); !ok {
			t.Fatalf("link %s of a user's newest three does not work", token)
		}
	}

	// Unused, expired files are purged; the others stay.
	put("expired", alice, now.Add(time.Second))
	if n, err := db.PurgeFiles(ctx, now.Add(2*time.Second)); err != nil || n != 1 {
		t.Fatalf("purged %d files: %v", n, err)
	}
	if _, ok := take(db, "bob-2", now); !ok {
		t.Fatal("a purge took a file whose link still works")
	}
	if err := db.PutFile(ctx, trustbot.LinkedFile{Owner: alice, Data: data, Expires: now.Add(time.Minute)}); trustbot.ErrorCode(err) != trustbot.EINVALID {
		t.Fatalf("a file without a token: %v", err)
	}
}
