package sqlite

import (
	"context"
	"github.com/trustbot/trustbot/internal/store"
	"time"
)

// HotQueries are the store's hot statements.
var HotQueries = store.HotQueries

// Plan returns the query plan of a statement, one line per step.
func (db *DB) Plan(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

// SetHealthTimes shortens how long a storage fault holds and how often
// readiness probes, for the test's life.
func SetHealthTimes(tb interface{ Cleanup(func()) }, hold, every time.Duration) {
	oldHold, oldEvery := faultHold, probeEvery
	faultHold, probeEvery = hold, every
	tb.Cleanup(func() { faultHold, probeEvery = oldHold, oldEvery })
}
