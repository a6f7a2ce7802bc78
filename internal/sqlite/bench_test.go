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
	"github.com/trustbot/trustbot/internal/trustbot"
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

var benchDeliveries = flag.Int("deliveries", 1_000_000, "BenchmarkPassQueries: rows in the deliveries table")

// seedDeliveries bulk-inserts n deliveries into the database at path: all
// sent over the past two years but for due pending ones due now, as many
// pending later (snoozed) and ten sending for a moment. It returns how long
// the insert took.
func seedDeliveries(tb testing.TB, path string, n, due int, now time.Time) time.Duration {
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
		if _, err := tx.Exec(`WITH RECURSIVE seq(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?2)
			INSERT INTO deliveries (id, team, user, kind, occurrence, state, attempt, due_at, claimed_at, sending_at)
			SELECT printf('d%011d', i), 'TBENCH', printf('U%06d', i % 10000), 'checkin', printf('o%07d', i / 10000),
				CASE WHEN i < 2 * ?3 THEN 'pending' WHEN i < 2 * ?3 + 10 THEN 'sending' ELSE 'sent' END,
				CASE WHEN i >= 2 * ?3 AND i < 2 * ?3 + 10 THEN 'a' ELSE '' END,
				CASE WHEN i < ?3 THEN ?4 - i WHEN i < 2 * ?3 THEN ?4 + 86400 + i ELSE ?4 - 63072000 + (i * 7919) % 63072000 END,
				?4, CASE WHEN i >= 2 * ?3 AND i < 2 * ?3 + 10 THEN ?4 ELSE 0 END
			FROM seq`,
			from, to, due, now.Unix()); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkPassQueries measures what a dispatch pass asks the store when
// little is due, against a deliveries table of 1,000,000 rows (-deliveries
// to change it): the deliveries left sending, the schedules, journeys and
// channel posts due (none), and the 100 pending deliveries due. With
// "indexes=0005" it runs on the indexes the schema had before migration
// 0006, for comparison.
func BenchmarkPassQueries(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	n := *benchDeliveries
	path := filepath.Join(b.TempDir(), "pass.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	took := seedDeliveries(b, path, n, benchDue, now)
	b.Logf("seeded %d deliveries in %v", n, took.Round(time.Millisecond))
	pass := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.StaleSending(ctx, now.Add(-2*time.Minute), time.Now(), 500); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ClaimDue(ctx, now, 500, weekAdvance); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ClaimDueJourneys(ctx, now, 500, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ClaimDueSubscriptions(ctx, now, 500, nil); err != nil {
				b.Fatal(err)
			}
			ds, err := db.Deliverable(ctx, now, 500)
			if err != nil {
				b.Fatal(err)
			}
			if len(ds) != benchDue {
				b.Fatalf("%d deliverable, want %d", len(ds), benchDue)
			}
		}
	}
	b.Run(fmt.Sprintf("deliveries=%d/indexes=current", n), pass)
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DROP INDEX deliveries_pending; DROP INDEX deliveries_sending;
		CREATE INDEX deliveries_work ON deliveries (state, due_at) WHERE state IN ('pending', 'sending');
		CREATE INDEX deliveries_user ON deliveries (team, user, kind, occurrence)`); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("deliveries=%d/indexes=0005", n), pass)
}

// BenchmarkTipsShown measures writing "tip shown" records as a burst of
// "/trust tip" does: 50 users, groups of 150 records flushed in one
// transaction, each user's history trimmed as it grows. One op is one
// record.
func BenchmarkTipsShown(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "tips.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const users, group = 50, 150
	at := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	record := func(i int) {
		k := trustbot.UserKey{Team: "TBENCH", User: fmt.Sprintf("UBENCH%02d", i%users)}
		if err := db.RecordTipShown(ctx, k, fmt.Sprintf("tip-%03d", i%205), at.Add(time.Duration(i)*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
		if (i+1)%group == 0 {
			if err := db.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Every user's history full first, as after a while in use.
	for i := range users * 240 {
		record(i)
	}
	i := users * 240
	b.ReportAllocs()
	for b.Loop() {
		record(i)
		i++
	}
}
