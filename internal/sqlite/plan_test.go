package sqlite_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/sqlite"
)

// TestHotQueriesUseIndexes checks the plans SQLite picks for the queries
// every dispatch pass runs (and a user's history and export): each table is
// searched through an index, never scanned, and the dispatcher's reads come
// in index order, without a sort. The tables grow without bound unless
// retention is set, so a scan would grow every pass with them.
func TestHotQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	seedUser(t, db, alice, "note") // the planner's choices do not depend on it, but real rows make sure
	noSort := []string{"ClaimDue", "ClaimDueJourneys", "ClaimDueSubscriptions", "Deliverable", "StaleSending", "Reflections"}
	for name, q := range sqlite.HotQueries {
		plan, err := db.Plan(ctx, q.SQL, q.Args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		all := strings.Join(plan, "\n")
		for _, step := range plan {
			// The partial index of deliveries being sent holds only what
			// is in flight (a few per sender, and those whose outcome is
			// unknown), never the table: reading all of it to find a gone
			// replica's is bounded by that.
			if strings.HasPrefix(step, "SCAN ") && step != "SCAN deliveries USING INDEX deliveries_sending" {
				t.Errorf("%s scans a table: %q\nplan:\n%s", name, step, all)
			}
		}
		if slices.Contains(noSort, name) && strings.Contains(all, "TEMP B-TREE") {
			t.Errorf("%s sorts its rows instead of reading them in index order:\n%s", name, all)
		}
		t.Logf("%s:\n%s", name, all)
	}
}

// TestIndexes: the index that repeated the deliveries' unique key is gone,
// and so is the one no query could use.
func TestIndexes(t *testing.T) {
	db := MustOpen(t)
	raw, err := sql.Open("sqlite", "file:"+db.Path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('deliveries_user', 'deliveries_work')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d of the old indexes remain (%v)", n, err)
	}
}
