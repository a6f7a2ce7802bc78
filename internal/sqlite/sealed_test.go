package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/store/storetest"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestTextThatLooksSealedStaysText stores, without a key, a journey label
// and a note that look like sealed values: they read back as typed, and
// the dispatcher's claim, history, export and rekey go on.

// TestUnreadableRowsAreSkipped: a journey and a note sealed with a key that
// is no longer configured never stop what reads other rows: the claim,
// the list of journeys, history, export and rekey skip them, log their
// IDs and count them.

// TestUpgradeDecidesWhatIsSealed writes rows as the version before the
// sealed column did (migrations 1 to 4), then opens the file: text a user
// typed to look sealed stays text, values sealed then still open, and a
// reflection that cannot be decided without its key is skipped, not
// misread.
func TestUpgradeDecidesWhatIsSealed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`)
	for _, m := range ms[:4] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name)
	}
	k1 := keyring(t, 1)
	seal := func(s string) string {
		v, err := k1.Seal(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	other := keyring(t, 3)
	foreign, _ := other.Seal("under a lost key")
	due := time.Now().Add(-time.Minute).Unix()
	journey := func(id, user, label, data string) {
		exec(`INSERT INTO journeys (id, team, user, kind, label, state, start, next_due_at, data, started_at, updated_at)
			VALUES (?, 'T1', ?, 'cooling', ?, 'active', '2026-11-01', ?, ?, 0, 0)`, id, user, label, due, data)
	}
	journey("jtyped", "UALICE", lookalike, `{}`)
	journey("jsealed", "UALICE", seal("label then"), seal(`{"goal":"goal then"}`))
	reflection := func(id, user, note, action string) {
		exec(`INSERT INTO deliveries (id, team, user, kind, occurrence, state, due_at, claimed_at) VALUES (?, 'T1', ?, 'checkin', ?, 'sent', 0, 0)`, id, user, id)
		exec(`INSERT INTO reflections (delivery_id, team, user, occurrence, choices, note, action, answered_at) VALUES (?, 'T1', ?, ?, '{"promises":"yes"}', ?, ?, 0)`,
			id, user, id, note, action)
	}
	reflection("dtyped", "UALICE", lookalike, "")
	reflection("dtyped2", "UALICE", lookalike, lookalike)
	reflection("dsealed", "UALICE", seal("note then"), seal("action then"))
	reflection("dlost", "UBOB", foreign, "")
	reflection("dmixed", "UBOB", foreign, "plain action")
	raw.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	met := &storetest.CountingMetrics{}
	db.Keys, db.Metrics = k1, met
	if j, err := db.Journey(ctx, alice, "jtyped"); err != nil || j.Label != lookalike {
		t.Errorf("typed label: %q %v", j.Label, err)
	}
	if j, err := db.Journey(ctx, alice, "jsealed"); err != nil || j.Label != "label then" || j.Data.Goal != "goal then" {
		t.Errorf("sealed journey: %+v %v", j, err)
	}
	notes := map[string]trustbot.Answers{}
	for _, k := range []trustbot.UserKey{alice, bob} {
		u, err := db.Export(ctx, k)
		if err != nil {
			t.Fatalf("export %s: %v", k.User, err)
		}
		for _, a := range u.Reflections {
			notes[a.DeliveryID] = a
		}
	}
	for id, want := range map[string][2]string{
		"dtyped":  {lookalike, ""},
		"dtyped2": {lookalike, lookalike},
		"dsealed": {"note then", "action then"},
		"dlost":   {"", ""},
		"dmixed":  {foreign, "plain action"}, // a plain value beside it: the row was never sealed
	} {
		if a := notes[id]; a.Note != want[0] || a.Action != want[1] || a.Choices["promises"] != "yes" {
			t.Errorf("%s: note %q action %q choices %v, want %q %q", id, a.Note, a.Action, a.Choices, want[0], want[1])
		}
	}
	if n := met.Unreadable(); n != 1 {
		t.Errorf("%d reflections counted unreadable, want 1 (dlost)", n)
	}
	ds, err := db.ClaimDueJourneys(ctx, time.Now(), 10, func(j trustbot.Journey, _ trustbot.Prefs) (trustbot.Journey, string) {
		j.NextDueAt = time.Time{}
		return j, "d1"
	})
	if err != nil || !claimedJourney(ds, "jtyped") || !claimedJourney(ds, "jsealed") {
		t.Errorf("claim after the upgrade: %+v %v", ds, err)
	}
	// Rekey to plain text (key 1 only opens): it records the answer for
	// every row it can read, and leaves the one it cannot.
	db.Keys, err = secret.NewKeyring(nil, bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	n, skipped, err := db.Rekey(ctx)
	if err != nil || skipped != 1 || n != 6 {
		t.Fatalf("rekey: %d changed, %d skipped, %v; want 6 values opened (both journeys, sealed again by the claim, and dsealed) and dlost skipped", n, skipped, err)
	}
	db.Keys = nil
	rs, err := db.Reflections(ctx, alice, "checkin", 5)
	if err != nil || len(rs) != 3 {
		t.Fatalf("history without keys: %+v %v", rs, err)
	}
	for _, r := range rs {
		if want := map[string]string{"dtyped": lookalike, "dtyped2": lookalike, "dsealed": "note then"}[r.Delivery.ID]; r.Answers.Note != want {
			t.Errorf("after rekey, without keys: %s note %q, want %q", r.Delivery.ID, r.Answers.Note, want)
		}
	}
	for id, label := range map[string]string{"jtyped": lookalike, "jsealed": "label then"} {
		if j, err := db.Journey(ctx, alice, id); err != nil || j.Label != label {
			t.Errorf("%s without keys: %q %v", id, j.Label, err)
		}
	}
}
