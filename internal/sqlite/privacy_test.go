package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// seedUser gives a user one of everything: settings, profile, schedule, a
// delivery with a note, a journey with a label and goal, a tip shown, a
// subscription and its change.
func seedUser(t *testing.T, db *sqlite.DB, k trustbot.UserKey, note string) {
	t.Helper()
	ctx := context.Background()
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "ja", Prefs: trustbot.DefaultPrefs()}))
	must(db.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: due}))
	must(db.SaveSchedule(ctx, schedule(k, due)))
	ds, err := db.ClaimDue(ctx, due, 10, weekAdvance)
	must(err)
	for _, d := range ds {
		if d.User == k.User {
			db.MarkSending(ctx, d.ID, "a", due)
			if ok, err := db.MarkSent(ctx, d.ID, "a", trustbot.Posted{Channel: "D" + k.User, TS: "1.1"}, due); !ok || err != nil {
				t.Fatalf("mark sent: %v %v", ok, err)
			}
			_, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: k, Choices: map[string]string{"promises": "yes"}, Note: note, Action: "朝の挨拶を自分から" + k.User, AnsweredAt: due})
			must(err)
		}
	}
	must(db.SaveJourney(ctx, trustbot.Journey{ID: "j" + k.User, UserKey: k, Kind: "plan", Label: "秘密のラベル" + k.User, State: trustbot.Active,
		Start: trustbot.DateOf(due), Data: trustbot.JourneyData{Goal: "秘密の目標" + k.User, Stage: "some-unease", Horizon: 3}, NextDueAt: due.Add(24 * time.Hour)}))
	must(db.RecordTipShown(ctx, k, "cooling-work-only-first", due))
	must(db.SaveConversation(ctx, trustbot.Conversation{Key: k, ID: "a:conv-" + k.User, ServiceURL: "https://smba.example/teams/", BotID: "28:bot", UpdatedAt: due}))
	must(db.SaveSubscription(ctx, trustbot.Subscription{Team: k.Team, Channel: "C" + k.User[1:] + "CH", Weekday: time.Monday, Minute: 540, Lang: "ja",
		TZ: "Asia/Tokyo", Active: true, Subscriber: k.User, NextDueAt: due}, k.User, "on"))
}

// fileBytes reads the database file, its WAL and its shared-memory file,
// as an attacker with the disk would.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func keyring(t *testing.T, keys ...byte) *secret.Keyring {
	t.Helper()
	var ks [][]byte
	for _, b := range keys {
		ks = append(ks, bytes.Repeat([]byte{b}, 32))
	}
	k, err := secret.NewKeyring(ks[0], ks[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEncryptionAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Keys = keyring(t, 1)
	seedUser(t, db, alice, "とても個人的なメモ")
	raw := fileBytes(t, path)
	for _, secretText := range []string{"とても個人的なメモ", "朝の挨拶を自分から", "秘密のラベル", "秘密の目標"} {
		if bytes.Contains(raw, []byte(secretText)) {
			t.Errorf("%q is readable in the database file", secretText)
		}
	}
	rs, err := db.Reflections(ctx, alice, "checkin", 5)
	if err != nil || len(rs) != 1 || rs[0].Answers.Note != "とても個人的なメモ" {
		t.Fatalf("reading back: %+v %v", rs, err)
	}
	j, err := db.Journey(ctx, alice, "j"+alice.User)
	if err != nil || j.Label != "秘密のラベル"+alice.User || j.Data.Goal != "秘密の目標"+alice.User {
		t.Fatalf("journey back: %+v %v", j, err)
	}

	// Rotate: a new key seals, the old one still opens; rekey moves every
	// value to the new key, after which the old key is not needed.
	db.Keys = keyring(t, 2, 1)
	n, skipped, err := db.Rekey(ctx)
	if err != nil || n != 4 || skipped != 0 {
		t.Fatalf("rekey changed %d values, err %v; want 4 (note, action, label, data)", n, err)
	}
	db.Keys = keyring(t, 2)
	if rs, err := db.Reflections(ctx, alice, "checkin", 5); err != nil || rs[0].Answers.Note != "とても個人的なメモ" {
		t.Fatalf("after rekey and dropping the old key: %+v %v", rs, err)
	}
	if n, _, _ := db.Rekey(ctx); n != 0 {
		t.Fatalf("a second rekey changed %d values", n)
	}
	// Without the key, sealed values cannot be read: left out, never
	// shown as garbage, and the answers chosen stay.
	db.Keys = nil
	if rs, err := db.Reflections(ctx, alice, "checkin", 5); err != nil || len(rs) != 1 || rs[0].Answers.Note != "" || rs[0].Answers.Choices["promises"] != "yes" {
		t.Fatalf("sealed notes without a key: %+v %v", rs, err)
	}
	if _, err := db.Journey(ctx, alice, "j"+alice.User); err == nil {
		t.Fatal("a sealed journey read without a key")
	}
}

func TestForget(t *testing.T) {
	t.Run("PlainText", func(t *testing.T) { testForget(t, nil) })
	t.Run("Sealed", func(t *testing.T) { testForget(t, keyring(t, 1)) })
}

// testForget forgets Alice and looks for her, her words and her IDs in
// every column of every table, then in the raw bytes of the database file,
// its WAL and its shared-memory file, with a reader open on the file as
// the running bot has. Sealed, the sealed copies of her words must be gone
// too.
func testForget(t *testing.T, keys *secret.Keyring) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Keys = keys
	seedUser(t, db, alice, "アリスのメモ")
	seedUser(t, db, bob, "ボブのメモ")
	// Her note rewritten (the old version of the row is freed), and her
	// journey saved again, as a real user's are.
	rs, err := db.Reflections(ctx, alice, "checkin", 5)
	if err != nil || len(rs) != 1 {
		t.Fatalf("reflections: %v %v", rs, err)
	}
	if _, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: rs[0].Delivery.ID, UserKey: alice, Note: "アリスの二つ目のメモ", AnsweredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	needles := []string{alice.User, "a:conv-" + alice.User, "アリスのメモ", "アリスの二つ目のメモ", "秘密のラベル" + alice.User, "秘密の目標" + alice.User, "朝の挨拶を自分から" + alice.User}
	u, err := db.Export(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range u.Deliveries {
		needles = append(needles, d.ID)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if keys != nil {
		rows, err := raw.QueryContext(ctx, `SELECT note FROM reflections WHERE user = ?1 UNION ALL SELECT action FROM reflections WHERE user = ?1
			UNION ALL SELECT label FROM journeys WHERE user = ?1 UNION ALL SELECT data FROM journeys WHERE user = ?1`, alice.User)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			if !strings.HasPrefix(v, "enc1:") {
				t.Fatalf("not sealed: %q", v)
			}
			needles = append(needles, v[len(v)-24:]) // a piece of the ciphertext
		}
		rows.Close()
	}
	if err := db.Forget(ctx, alice); err != nil {
		t.Fatal(err)
	}
	// Look for Alice, and her note, in every column of every table.
	for _, needle := range []string{alice.User, "アリスのメモ"} {
		places, err := db.Mentions(ctx, needle)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range places {
			t.Errorf("%s still holds %q", p, needle)
		}
	}
	if bobs, err := db.Mentions(ctx, bob.User); err != nil || len(bobs) == 0 {
		t.Fatalf("forgetting Alice removed Bob too (%v)", err)
	}
	b := fileBytes(t, path)
	for _, needle := range needles {
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("after forget, the files on disk still hold %q", needle)
		}
	}
	if keys == nil && !bytes.Contains(b, []byte("ボブのメモ")) {
		t.Error("Bob's note is not in the file: the scan cannot see plain text")
	}
}

func TestExportAndPurge(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	seedUser(t, db, alice, "アリスのメモ")
	seedUser(t, db, bob, "ボブのメモ")
	u, err := db.Export(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if u.Profile == nil || u.Schedule == nil || len(u.Reflections) != 1 || u.Reflections[0].Note != "アリスのメモ" ||
		len(u.Journeys) != 1 || len(u.TipsShown) != 1 || len(u.Subscribed) != 1 || len(u.Deliveries) == 0 {
		t.Fatalf("export: %+v", u)
	}
	for _, d := range u.Deliveries {
		if d.User != alice.User {
			t.Fatalf("export holds %s's delivery", d.User)
		}
	}
	// Retention: everything before the cut goes, except what is still active.
	n, err := db.Purge(ctx, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n == 0 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if rs, _ := db.Reflections(ctx, alice, "checkin", 5); len(rs) != 0 {
		t.Fatalf("old reflections kept: %+v", rs)
	}
	if js, _ := db.Journeys(ctx, alice, true); len(js) != 1 {
		t.Fatal("an active journey was purged")
	}
}

// TestPurgeReachesTheBytes: what retention deletes is gone from the raw
// bytes of the database file and its WAL, with a reader open on the file
// as the running bot has; what it keeps is still there.
func TestPurgeReachesTheBytes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedUser(t, db, alice, "アリスの古いメモ")
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(fileBytes(t, path), []byte("アリスの古いメモ")) {
		t.Fatal("the note is not in the files before the purge: the scan cannot see it")
	}
	if n, err := db.Purge(ctx, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n == 0 {
		t.Fatalf("purge: %d %v", n, err)
	}
	b := fileBytes(t, path)
	for _, gone := range []string{"アリスの古いメモ", "朝の挨拶を自分から" + alice.User} {
		if bytes.Contains(b, []byte(gone)) {
			t.Errorf("after the purge, the files on disk still hold %q", gone)
		}
	}
	if !bytes.Contains(b, []byte("秘密のラベル"+alice.User)) {
		t.Error("the active journey's label is gone: it was not to be purged")
	}
}

// TestOldFreePagesAreWipedOnce: a database written by a version without
// secure_delete keeps deleted text in its free pages. The first open by
// this version rebuilds the file, once: the text is gone from the bytes of
// the file and its WAL, and what was kept is still there.
func TestOldFreePagesAreWipedOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	seedUser(t, db, alice, "アリスの消したメモ")
	seedUser(t, db, bob, "ボブのメモ")
	db.Close()
	// As the earlier version did: delete with secure_delete off, and no
	// record of the rebuild.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=secure_delete(0)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM reflections WHERE user = 'UALICE'`,
		`DELETE FROM journeys WHERE user = 'UALICE'`,
		`DROP TABLE upkeep`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	gone := []string{"アリスの消したメモ", "朝の挨拶を自分から" + alice.User, "秘密のラベル" + alice.User, "秘密の目標" + alice.User}
	before := fileBytes(t, path)
	for _, s := range gone {
		if !bytes.Contains(before, []byte(s)) {
			t.Fatalf("%q is not in the old file's free pages: nothing to test", s)
		}
	}

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Upkeep(); err != nil {
		t.Fatal(err)
	}
	after := fileBytes(t, path)
	for _, s := range gone {
		if bytes.Contains(after, []byte(s)) {
			t.Errorf("after the first open, the files on disk still hold %q", s)
		}
	}
	if rs, err := db.Reflections(ctx, bob, "checkin", 5); err != nil || len(rs) != 1 || rs[0].Answers.Note != "ボブのメモ" {
		t.Fatalf("Bob's note after the rebuild: %+v %v", rs, err)
	}
	db.Close()

	// Recorded: the next open does not rebuild again. (Seen by deleting
	// with secure_delete off once more: a rebuild would wipe it too.)
	raw, err = sql.Open("sqlite", "file:"+path+"?_pragma=secure_delete(0)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM reflections WHERE user = 'UBOB'`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Upkeep(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(fileBytes(t, path), []byte("ボブのメモ")) {
		t.Error("the second open rebuilt the file again")
	}
}

func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	seedUser(t, db, alice, "アリスのメモ")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			db.RecordTipShown(ctx, bob, "t", time.Unix(int64(i), 0))
		}
	}()
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	<-done
	copy, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer copy.Close()
	rs, err := copy.Reflections(ctx, alice, "checkin", 5)
	if err != nil || len(rs) != 1 || rs[0].Answers.Note != "アリスのメモ" {
		t.Fatalf("backup content: %+v %v", rs, err)
	}
	if err := db.Backup(ctx, path); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
}
