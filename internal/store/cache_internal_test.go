package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// openTipsOnly opens a caching store on a SQLite file that has only the
// table of "tip shown" records.
func openTipsOnly(t *testing.T, path string) *DB {
	t.Helper()
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(200)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE tips_shown (team TEXT, "user" TEXT, tip_id TEXT, shown_at INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db := New(Config{Write: w, Dialect: Dialect{Name: "sqlite"}, Cache: true, FlushTimeout: time.Second})
	t.Cleanup(func() { db.Close() })
	return db
}

// TestCacheKeepsNoReadOlderThanAWrite: a value read before a write, stored
// after it, must not be served.
func TestCacheKeepsNoReadOlderThanAWrite(t *testing.T) {
	c := newUserCache[string]()
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	now := time.Now()
	_, gen, ok := c.get(k, now)
	if ok {
		t.Fatal("hit on an empty cache")
	}
	c.update(k, nil) // a write lands while the read is under way
	c.put(k, "old", gen, now)
	if v, _, ok := c.get(k, now); ok {
		t.Fatalf("served %q, read before the write", v)
	}
	_, gen, _ = c.get(k, now)
	c.put(k, "new", gen, now)
	if v, _, ok := c.get(k, now); !ok || v != "new" {
		t.Fatalf("got %q %v", v, ok)
	}
	if _, _, ok := c.get(k, now.Add(cacheTTL)); ok {
		t.Fatal("served past its time")
	}
}

// faults counts Metrics.Fault by name.
type faults struct {
	trustbot.NopMetrics
	mu sync.Mutex
	n  map[string]int
}

func (f *faults) Fault(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n[name]++
}

// TestWaitingTipsAreBounded: while another process holds the write lock,
// "tip shown" records wait in memory up to a bound; past it the oldest are
// dropped and counted, and memory stays bounded. Once the lock is gone,
// every record still waiting is written.
func TestWaitingTipsAreBounded(t *testing.T) {
	defer func(n int) { tipWaitMax = n }(tipWaitMax)
	tipWaitMax = 100
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db := openTipsOnly(t, path)
	met := &faults{n: map[string]int{}}
	db.Metrics = met
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	base := time.Now()
	const n = 250
	for i := range n {
		if err := db.RecordTipShown(ctx, k, fmt.Sprintf("tip-%03d", i), base.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	db.c.tipMu.Lock()
	waiting, oldest := len(db.c.pending), db.c.pending[0].id
	db.c.tipMu.Unlock()
	dropped := db.DroppedTips()
	if waiting > tipWaitMax {
		t.Errorf("%d records waiting, bound %d", waiting, tipWaitMax)
	}
	if dropped == 0 || int(dropped)+waiting != n {
		t.Errorf("%d dropped + %d waiting != %d recorded", dropped, waiting, n)
	}
	if want := fmt.Sprintf("tip-%03d", dropped); oldest != want {
		t.Errorf("oldest waiting %s, want %s: the oldest are dropped first", oldest, want)
	}
	met.mu.Lock()
	if got := met.n[trustbot.FaultTipsDropped]; got != int(dropped) {
		t.Errorf("%d drops counted, want %d", got, dropped)
	}
	met.mu.Unlock()

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.flushTips(ctx); err != nil {
		t.Fatal(err)
	}
	db.c.tipMu.Lock()
	left := len(db.c.pending)
	db.c.tipMu.Unlock()
	if left != 0 {
		t.Errorf("%d records still waiting after the lock went", left)
	}
	var newest string
	if err := db.read.QueryRowContext(ctx, `SELECT tip_id FROM tips_shown ORDER BY shown_at DESC LIMIT 1`).Scan(&newest); err != nil || newest != fmt.Sprintf("tip-%03d", n-1) {
		t.Errorf("newest written %q (%v), want the last recorded", newest, err)
	}
}

// TestAddTipIsMerge: adding one record to a merged list gives what
// merging it in would, whatever its place, repeats and limits.
func TestAddTipIsMerge(t *testing.T) {
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var list []shownTip
		for range rng.IntN(8) {
			list = append(list, shownTip{k: k, id: fmt.Sprint("tip-", rng.IntN(5)), at: int64(rng.IntN(6))})
		}
		n := rng.IntN(9)
		list = mergeTips(n, list)
		r := shownTip{k: k, id: fmt.Sprint("tip-", rng.IntN(5)), at: int64(rng.IntN(6))}
		if rng.IntN(4) == 0 && len(list) > 0 {
			r = list[rng.IntN(len(list))]
		}
		want := mergeTips(n, []shownTip{r}, list)
		if got := addTip(n, r, list); !slices.Equal(got, want) {
			t.Fatalf("addTip(%d, %v, %v) = %v, want %v", n, r, list, got, want)
		}
	}
}

// TestTrimKeepsTheNewest: trimming a user's history keeps their newest
// tipsKept records, by time and then by order written (three records
// share each millisecond, so the cut falls among equals), and nobody
// else's.
func TestTrimKeepsTheNewest(t *testing.T) {
	ctx := context.Background()
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "tips.db"))
	alice := trustbot.UserKey{Team: "T1", User: "UALICE"}
	bob := trustbot.UserKey{Team: "T1", User: "UBOB"}
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	// Written one at a time, the last record triggers a trim.
	const n = 15 * tipTrimEvery
	for i := range n {
		if err := db.RecordTipShown(ctx, alice, fmt.Sprintf("tip-%03d", i), base.Add(time.Duration(i/3)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := db.RecordTipShown(ctx, bob, fmt.Sprintf("bob-%03d", i), base); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.flushTips(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(k trustbot.UserKey) []string {
		rows, err := db.read.QueryContext(ctx, `SELECT tip_id FROM tips_shown WHERE team = ? AND "user" = ? ORDER BY rowid`, k.Team, k.User)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	got := ids(alice)
	if len(got) != tipsKept {
		t.Fatalf("alice has %d rows after a trim, want %d", len(got), tipsKept)
	}
	for i, id := range got {
		if want := fmt.Sprintf("tip-%03d", n-len(got)+i); id != want {
			t.Fatalf("row %d is %s, want %s: the newest %d records", i, id, want, len(got))
		}
	}
	if b := ids(bob); len(b) != (n+49)/50 {
		t.Fatalf("bob has %d rows, want %d: trimming alice's touched them", len(b), (n+49)/50)
	}
}

// BenchmarkAddTip adds a new record to a user's cached recent tips, as
// each tip shown does (the coach asks for the last 30).
func BenchmarkAddTip(b *testing.B) {
	const n = 30
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	var list []shownTip
	for i := range n {
		list = append(list, shownTip{k: k, id: fmt.Sprintf("tip-%03d", i), at: int64(n - i)})
	}
	r := shownTip{k: k, id: "tip-new", at: n + 1}
	b.ReportAllocs()
	for b.Loop() {
		addTip(n, r, list)
	}
}

// TestSavedProfileServedFromCache: a profile saved is what the next read
// of it returns, as the database gives it back, with no read of the
// database (the row is changed behind the store's back to tell); a save
// that failed leaves nothing cached, so the next read goes to the
// database.
func TestSavedProfileServedFromCache(t *testing.T) {
	ctx := context.Background()
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "profiles.db"))
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE profiles (team TEXT, "user" TEXT, tz TEXT, locale TEXT, fetched_at INTEGER, PRIMARY KEY (team, "user"))`); err != nil {
		t.Fatal(err)
	}
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	if _, err := db.Profile(ctx, k); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("profile before any save: %v", err)
	}
	p := trustbot.Profile{UserKey: k, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: time.Date(2026, 12, 1, 4, 30, 15, 123456789, time.Local)}
	if err := db.SaveProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	read, err := db.readProfile(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE profiles SET tz = 'Europe/Paris'`); err != nil {
		t.Fatal(err)
	}
	got, err := db.Profile(ctx, k)
	if err != nil || got != read {
		t.Fatalf("profile after the save = %q %q %v (%v); want %q %q %v, as the database gave it back", got.TZ, got.Locale, got.FetchedAt, err, read.TZ, read.Locale, read.FetchedAt)
	}

	if _, err := db.write.ExecContext(ctx, `DROP TABLE profiles`); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "America/New_York", FetchedAt: p.FetchedAt}); err == nil {
		t.Fatal("saved without a table")
	}
	if got, err := db.Profile(ctx, k); err == nil {
		t.Fatalf("profile after a failed save = %q, served without reading the database", got.TZ)
	}
}

// recordEvery records a tip for k every gap until stop says to end, and
// returns how many it recorded. The gap shapes the load the flusher sees
// (a burst spread over time); nothing waits on it.
func recordEvery(t *testing.T, db *DB, k trustbot.UserKey, gap time.Duration, stop func(i int) bool) int {
	t.Helper()
	i := 0
	for ; !stop(i); i++ {
		if err := db.RecordTipShown(context.Background(), k, fmt.Sprintf("tip-%03d", i), time.Now()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(gap)
	}
	return i
}

// groupsWritten returns how many groups of records db wrote, and how many
// records wait.
func groupsWritten(db *DB) (groups uint64, waiting int) {
	db.c.tipMu.Lock()
	defer db.c.tipMu.Unlock()
	return db.c.groups, len(db.c.pending)
}

// waitGroups waits until done holds of db's groups written and records
// waiting, and returns them; past 10 s the test fails with what().
func waitGroups(t *testing.T, db *DB, done func(groups uint64, waiting int) bool, what string) (uint64, int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, waiting := groupsWritten(db)
		if done(g, waiting) {
			return g, waiting
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d groups written, %d records waiting", what, g, waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTipsWrittenAfterABurst: records that keep coming a little apart are
// written in one group once they stop, not in the midst of the burst.
func TestTipsWrittenAfterABurst(t *testing.T) {
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "t.db"))
	db.c.quiet, db.c.every = 300*time.Millisecond, time.Hour
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	n := recordEvery(t, db, k, 2*time.Millisecond, func(i int) bool { return i == 150 })
	if g, _ := groupsWritten(db); g != 0 {
		t.Fatalf("%d groups written during the burst", g)
	}
	if g, _ := waitGroups(t, db, func(_ uint64, waiting int) bool { return waiting == 0 }, "records still wait after the burst"); g != 1 {
		t.Fatalf("the burst's %d records were written in %d groups, want 1", n, g)
	}
	var rows int
	if err := db.read.QueryRowContext(context.Background(), `SELECT count(*) FROM tips_shown`).Scan(&rows); err != nil || rows != n {
		t.Fatalf("%d rows written (%v), want %d", rows, err, n)
	}
}

// TestTipsWrittenUnderSteadyLoad: records that never stop coming are still
// written, each group when its first has waited long enough, well before
// a group is full.
func TestTipsWrittenUnderSteadyLoad(t *testing.T) {
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "t.db"))
	db.c.quiet, db.c.every = time.Hour, 50*time.Millisecond
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	deadline := time.Now().Add(10 * time.Second)
	n := recordEvery(t, db, k, time.Millisecond, func(int) bool {
		if time.Now().After(deadline) {
			t.Fatal("no group written while records kept coming")
		}
		g, _ := groupsWritten(db)
		return g >= 3
	})
	if n >= tipFlushMax {
		t.Fatalf("3 groups written only after %d records: written when full, not when their first had waited", n)
	}
}

// TestAFullGroupIsWrittenAtOnce: tipFlushMax records waiting are written
// without waiting for a quiet moment.
func TestAFullGroupIsWrittenAtOnce(t *testing.T) {
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "t.db"))
	db.c.quiet, db.c.every = time.Hour, time.Hour
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	recordEvery(t, db, k, 0, func(i int) bool { return i == tipFlushMax })
	waitGroups(t, db, func(g uint64, _ int) bool { return g > 0 }, "a full group was not written")
}

// TestRecentTipsChangedInPlaceAreReadUnderTheLock: the cached list of a
// user's recent tips changes in place with each record (addTip), so what
// RecentTips returns must be its own copy, made under the cache's lock: a
// list returned earlier keeps what it said, and readers running alongside
// the records (under the race detector) never see one half written.
func TestRecentTipsChangedInPlaceAreReadUnderTheLock(t *testing.T) {
	ctx := context.Background()
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "tips.db"))
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	at := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	for i := range 5 {
		if err := db.RecordTipShown(ctx, k, fmt.Sprintf("tip-%d", i), at.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := db.RecentTips(ctx, k, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tip-4", "tip-3", "tip-2"}
	if !slices.Equal(first, want) {
		t.Fatalf("recent tips %v, want %v", first, want)
	}
	// The entry is cached now: the next records change its list in place.
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 5; i < 200; i++ {
			if err := db.RecordTipShown(ctx, k, fmt.Sprintf("tip-%d", i), at.Add(time.Duration(i)*time.Millisecond)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for range 200 {
			got, err := db.RecentTips(ctx, k, 3)
			if err != nil {
				t.Error(err)
				return
			}
			// Newest first, three in a row, whatever moment it was read at.
			var a, b, c int
			if n, _ := fmt.Sscanf(got[0]+" "+got[1]+" "+got[2], "tip-%d tip-%d tip-%d", &a, &b, &c); n != 3 || b != a-1 || c != b-1 {
				t.Errorf("recent tips %v read while records were added", got)
				return
			}
		}
	})
	wg.Wait()
	if !slices.Equal(first, want) {
		t.Fatalf("a list returned earlier changed to %v with later records", first)
	}
	if got, _ := db.RecentTips(ctx, k, 3); !slices.Equal(got, []string{"tip-199", "tip-198", "tip-197"}) {
		t.Fatalf("recent tips %v after every record", got)
	}
}

// TestAppendRecentTipsKeepsWhatItAppendsTo: AppendRecentTips adds the IDs
// after what dst holds, from the database and from the cache alike, and
// RecentTips of a user with none is an empty list, not nil (an export
// writes it as []).
func TestAppendRecentTipsKeepsWhatItAppendsTo(t *testing.T) {
	ctx := context.Background()
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "tips.db"))
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	if got, err := db.RecentTips(ctx, k, 3); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("recent tips of a user with none: %#v, %v", got, err)
	}
	at := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	for i := range 2 {
		if err := db.RecordTipShown(ctx, k, fmt.Sprintf("tip-%d", i), at.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	db.c.recent.update(k, nil) // read from the database, then from the cache
	for range 2 {
		dst := append(make([]string, 0, 8), "kept")
		got, err := db.AppendRecentTips(ctx, dst, k, 3)
		if want := []string{"kept", "tip-1", "tip-0"}; err != nil || !slices.Equal(got, want) {
			t.Fatalf("appended %v (%v), want %v", got, err, want)
		}
	}
}

// TestRecentTipsAcrossAFlush: a flush that lands between RecentTips' two
// reads (the records waiting, then the table) hides none of its records.
func TestRecentTipsAcrossAFlush(t *testing.T) {
	ctx := context.Background()
	db := openTipsOnly(t, filepath.Join(t.TempDir(), "tips.db"))
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		if err := db.RecordTipShown(ctx, k, id, at.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	flushed := false
	db.betweenTipReads = func() {
		if !flushed {
			flushed = true
			if err := db.Flush(ctx); err != nil {
				t.Error(err)
			}
		}
	}
	got, err := db.RecentTips(ctx, k, 30)
	if err != nil {
		t.Fatal(err)
	}
	if !flushed {
		t.Fatal("the read went past the table: nothing to test")
	}
	if want := []string{"c", "b", "a"}; !slices.Equal(got, want) {
		t.Fatalf("RecentTips across a flush: %v, want %v", got, want)
	}
}
