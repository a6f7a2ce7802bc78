package sqlite_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/sqlite"
)

var benchSizes = flag.String("sizes", "10000,100000,1000000", "BenchmarkDueQuery: schedule counts, comma-separated")

// benchDue is how many schedules are due in BenchmarkDueQuery, whatever the
// table's size.
const benchDue = 100

// seedSchedules bulk-inserts n active weekly schedules into the database
// file at path (whose schema sqlite.Open created), in one transaction
// through database/sql: the first due of them are due before now, the rest
// spread over the coming week. It returns how long the insert took.
func seedSchedules(tb testing.TB, path string, n, due int, now time.Time) time.Duration {
	tb.Helper()
	start := time.Now()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=cache_size(-262144)&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	const chunk = 50_000
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n)
		if _, err := tx.Exec(`WITH RECURSIVE seq(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?)
			INSERT INTO schedules (team, user, cadence, weekday, month_day, week, minute, anchor, active, stopped, occurrence, next_due_at, updated_at)
			SELECT 'TBENCH', printf('U%08d', i), 'weekly', 5, 0, 0, 960, '', 1, '', ?,
				CASE WHEN i < ? THEN ? - 60 * i ELSE ? + 60 + (i * 7919) % 604800 END, ?
			FROM seq`,
			from, to, now.Format(time.DateOnly), due, now.Unix(), now.Unix(), now.Unix()); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
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

// BenchmarkDueQuery measures the dispatcher's question every minute, "which
// schedules are due?" (DueSchedules: the same indexed query ClaimDue runs
// in its transaction), against tables of growing size where the same 100
// schedules are due. Its cost must follow the due rows, not the table.
func BenchmarkDueQuery(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for _, n := range parseSizes(b) {
		path := filepath.Join(b.TempDir(), "due.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		took := seedSchedules(b, path, n, benchDue, now)
		b.Logf("seeded %d schedules in %v", n, took.Round(time.Millisecond))
		b.Run(fmt.Sprintf("schedules=%d", n), func(b *testing.B) {
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
		db.Close()
	}
}
