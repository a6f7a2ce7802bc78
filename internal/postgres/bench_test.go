package postgres_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/store"
)

var benchSizes = flag.String("sizes", "10000,100000,1000000", "BenchmarkDueQuery: schedule counts, comma-separated")

// benchDue is how many schedules are due in BenchmarkDueQuery, whatever the
// table's size.
const benchDue = 100

// dueSQL is DueSchedules' question, as EXPLAIN is given it.
const dueSQL = `SELECT team, "user" FROM schedules WHERE next_due_at IS NOT NULL AND next_due_at <= $1 ORDER BY next_due_at LIMIT $2`

// seedSchedules inserts n active weekly schedules in one statement
// (generate_series): the first due of them are due before now, the rest
// spread over the coming week. Then it has the planner's statistics
// brought up to date, as autovacuum would soon after. It returns how long
// both took.
func seedSchedules(tb testing.TB, db *sql.DB, n, due int, now time.Time) time.Duration {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	if _, err := db.ExecContext(ctx, `INSERT INTO schedules (team, "user", cadence, weekday, month_day, week, minute, anchor, active, stopped, occurrence, next_due_at, updated_at)
		SELECT 'TBENCH', 'U' || lpad(i::text, 8, '0'), 'weekly', 5, 0, 0, 960, '', true, '', $1,
			CASE WHEN i < $2 THEN $3 - 60 * i ELSE $3 + 60 + (i::bigint * 7919) % 604800 END, $3
		FROM generate_series(0, $4 - 1) AS i`,
		now.Format(time.DateOnly), due, now.Unix(), n); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE schedules`); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// plan returns PostgreSQL's plan for query, as it would run it now, by
// explain: "EXPLAIN", or "EXPLAIN (ANALYZE, BUFFERS)" to run it and count
// what it read.
func plan(tb testing.TB, db *sql.DB, explain, query string, args ...any) string {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), explain+" "+query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestDueQueryPlanAtScale: on a table of 50,000 schedules with fresh
// statistics, and sequential scans left as the planner prices them,
// PostgreSQL reads the due schedules through schedules_due, for
// DueSchedules and for the claim a dispatch pass runs, and finds exactly
// the due ones.
func TestDueQueryPlanAtScale(t *testing.T) {
	url := pgtest.URL(t)
	db := open(t, url)
	conn := raw(t, url)
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	seedSchedules(t, conn, 50_000, benchDue, now)

	claim := store.HotQueries["ClaimDue"]
	for name, p := range map[string]string{
		"DueSchedules": plan(t, conn, "EXPLAIN", dueSQL, now.Unix(), 500),
		"ClaimDue":     plan(t, conn, "EXPLAIN", postgres.Dialect.Rebind(claim.SQL), now.Unix(), 500),
	} {
		if !strings.Contains(p, "schedules_due") || strings.Contains(p, "Seq Scan on schedules") {
			t.Errorf("%s is not served by schedules_due:\n%s", name, p)
		}
		t.Logf("%s:\n%s", name, p)
	}
	due, err := db.DueSchedules(context.Background(), now, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != benchDue {
		t.Fatalf("%d due, want %d", len(due), benchDue)
	}
	for _, s := range due {
		if s.NextDueAt.After(now) {
			t.Fatalf("%s/%s is due at %v, after %v", s.Team, s.User, s.NextDueAt, now)
		}
	}
}

func parseSizes(tb testing.TB) []int {
	tb.Helper()
	var out []int
	for f := range strings.SplitSeq(*benchSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < benchDue {
			tb.Fatalf("-sizes: %q is not a count of at least %d", f, benchDue)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkDueQuery measures the dispatcher's question every minute,
// "which schedules are due?" (DueSchedules), on PostgreSQL against tables
// of growing size where the same 100 schedules are due, each size in a
// database of its own. Its cost must follow the due rows, not the table.
// Like every PostgreSQL test it needs TRUSTBOT_TEST_PG (make test-pg, or
// tools/pgcluster/pgcluster run go test ...).
func BenchmarkDueQuery(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for _, n := range parseSizes(b) {
		b.Run(fmt.Sprintf("schedules=%d", n), func(b *testing.B) {
			url := pgtest.URL(b)
			db := open(b, url)
			conn := raw(b, url)
			took := seedSchedules(b, conn, n, benchDue, now)
			b.Logf("seeded %d schedules in %v; plan:\n%s", n, took.Round(time.Millisecond), plan(b, conn, "EXPLAIN (ANALYZE, BUFFERS)", dueSQL, now.Unix(), 500))
			b.ReportAllocs()
			for b.Loop() {
				due, err := db.DueSchedules(ctx, now, 500)
				if err != nil {
					b.Fatal(err)
				}
				if len(due) != benchDue {
					b.Fatalf("%d due, want %d", len(due), benchDue)
				}
			}
			b.ReportMetric(benchDue, "due/op")
		})
	}
}
