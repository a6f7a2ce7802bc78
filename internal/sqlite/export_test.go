package sqlite

import (
	"context"
	"time"
)

// HotQueries are the statements every dispatch pass (and a user's history
// and export) runs, with arguments of the right types.
var HotQueries = map[string]struct {
	SQL  string
	Args []any
}{
	"ClaimDue":              {claimDueSQL, []any{int64(0), 500}},
	"ClaimDueJourneys":      {claimDueJourneysSQL, []any{int64(0), 500}},
	"ClaimDueSubscriptions": {claimDueSubscriptionsSQL, []any{int64(0), 500}},
	"Deliverable":           {`SELECT ` + deliveryCols + ` FROM deliveries ` + deliverableWhere, []any{int64(0), 500}},
	"StaleSending":          {`SELECT ` + deliveryCols + ` FROM deliveries ` + staleSendingWhere, []any{int64(0), 500}},
	"Reflections":           {`SELECT ` + deliveryCols + ` FROM deliveries ` + reflectionsWhere, []any{"T", "U", "checkin", 12}},
	"ExportDeliveries":      {`SELECT ` + deliveryCols + ` FROM deliveries ` + userDeliveriesWhere, []any{"T", "U"}},
}

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
