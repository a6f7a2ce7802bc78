package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/store/storetest"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func open(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func raw(t testing.TB, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestContract runs the store's contract on PostgreSQL, a fresh database
// for each test.
func TestContract(t *testing.T) {
	var where storetest.Where
	openAt := func(t testing.TB, url string) *store.DB { return where.Put(open(t, url).DB, url) }
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, storetest.Harness{
		Version: ms[len(ms)-1].Version,
		Open:    func(t testing.TB) *store.DB { return openAt(t, pgtest.URL(t)) },
		Again:   func(t testing.TB, db *store.DB) *store.DB { return openAt(t, where.Of(db)) },
		SQL:     func(t testing.TB, db *store.DB) *sql.DB { return raw(t, where.Of(db)) },
	})
}

// TestSameMigrationsAsSQLite: both databases reach the same version list.
func TestSameMigrationsAsSQLite(t *testing.T) {
	versions := func(ms []store.Migration, err error) []int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var vs []int
		for _, m := range ms {
			vs = append(vs, m.Version)
		}
		return vs
	}
	pg, lite := versions(postgres.Migrations()), versions(sqlite.Migrations())
	if !slices.Equal(pg, lite) || len(pg) == 0 {
		t.Fatalf("PostgreSQL migrations %v, SQLite's %v: the same versions are wanted", pg, lite)
	}
}

// TestMigrationsRunOnceAtOnce starts several processes' worth of stores on
// one new database at the same moment: each migration is applied once, and
// every store opens on the full schema.
func TestMigrationsRunOnceAtOnce(t *testing.T) {
	url := pgtest.URL(t)
	ms, _ := postgres.Migrations()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			v, err := db.Version(context.Background())
			if err == nil && v != ms[len(ms)-1].Version {
				err = fmt.Errorf("opened at version %d", v)
			}
			errs <- errors.Join(err, db.Close())
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var n, distinct int
	if err := raw(t, url).QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || distinct != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%d versions), want %d", n, distinct, len(ms))
	}
}

// TestRefusesANewerSchema: a database migrated by a newer trustbot is not
// opened by an older one, which says both versions; one that was running
// on it already is no longer ready.
func TestRefusesANewerSchema(t *testing.T) {
	url := pgtest.URL(t)
	running := open(t, url)
	if err := running.Ready(context.Background()); err != nil {
		t.Fatalf("ready before the upgrade: %v", err)
	}
	if _, err := raw(t, url).Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	ms, _ := postgres.Migrations()
	_, err := postgres.Open(context.Background(), url)
	if err == nil {
		t.Fatal("opened a database with a newer schema")
	}
	ready := running.Ready(context.Background())
	for _, err := range []error{err, ready} {
		if err == nil {
			t.Fatal("a newer schema went unnoticed by the running store")
		}
		for _, want := range []string{"9999", fmt.Sprint(ms[len(ms)-1].Version)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name version %s", err, want)
			}
		}
	}
}

// TestNoStaleReadsAcrossReplicas: what one replica writes, another reads
// at once, even right after reading the old value itself: nothing is
// cached where another process writes.
func TestNoStaleReadsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	k := trustbot.UserKey{Team: "T1", User: "UALICE"}
	for _, db := range []*postgres.DB{a, b} {
		if s, err := db.Settings(ctx, k); err != nil || s.Lang != trustbot.LangAuto {
			t.Fatalf("defaults: %+v %v", s, err)
		}
		if _, err := db.Profile(ctx, k); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			t.Fatalf("profile before any: %v", err)
		}
		db.RecentTips(ctx, k, 10)
	}
	s := trustbot.Settings{UserKey: k, Lang: "en", Prefs: trustbot.DefaultPrefs()}
	s.Prefs.PausedUntil = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := a.SaveSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := a.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "Asia/Tokyo", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordTipShown(ctx, k, "tip-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := b.Settings(ctx, k)
	if err != nil || got.Lang != "en" || !got.Prefs.PausedUntil.Equal(s.Prefs.PausedUntil) || got.Prefs.TZ != "Asia/Tokyo" {
		t.Fatalf("the other replica reads %+v (%v)", got, err)
	}
	if p, err := b.Profile(ctx, k); err != nil || p.TZ != "Asia/Tokyo" {
		t.Fatalf("the other replica's profile: %+v %v", p, err)
	}
	if tips, err := b.RecentTips(ctx, k, 10); err != nil || !slices.Equal(tips, []string{"tip-1"}) {
		t.Fatalf("the other replica's tips: %v %v", tips, err)
	}
}

// TestClaimsSkipLockedRows: while one claimer holds due schedules in its
// transaction, another claims the others at once, without waiting for it
// and without taking any of its rows.
func TestClaimsSkipLockedRows(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, url)
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for i := range 10 {
		if err := db.SaveSchedule(ctx, storetest.Schedule(trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%02d", i)}, due)); err != nil {
			t.Fatal(err)
		}
	}
	// Another replica holds the first four due schedules, mid-claim.
	other, err := raw(t, url).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	rows, err := other.QueryContext(ctx, `SELECT "user" FROM schedules ORDER BY next_due_at, "user" LIMIT 4 FOR UPDATE`)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for rows.Next() {
		var u string
		rows.Scan(&u)
		held[u] = true
	}
	rows.Close()
	if len(held) != 4 {
		t.Fatalf("held %d rows", len(held))
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ds, err := db.ClaimDue(wait, due, 100, storetest.WeekAdvance)
	if err != nil {
		t.Fatalf("claim beside a held claim: %v", err)
	}
	if len(ds) != 6 {
		t.Errorf("claimed %d, want the 6 not held", len(ds))
	}
	for _, d := range ds {
		if held[d.User] {
			t.Errorf("claimed %s, held by the other claimer", d.User)
		}
	}
}

// TestTransientErrorsAreBusy: PostgreSQL's errors that pass (a deadlock,
// a serialization failure, a lock or statement timeout, a lost
// connection) take the store's "busy, try again" path, as SQLite's busy
// database does; others do not.
func TestTransientErrorsAreBusy(t *testing.T) {
	for _, code := range []string{"40001", "40P01", "55P03", "57014", "57P01", "08006", "08003"} {
		err := postgres.Dialect.Error(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code, Message: "x"}))
		if trustbot.ErrorCode(err) != trustbot.EUNAVAILABLE {
			t.Errorf("%s: code %q, want %q", code, trustbot.ErrorCode(err), trustbot.EUNAVAILABLE)
		}
	}
	for _, code := range []string{"23505", "42P01", "22001"} {
		err := postgres.Dialect.Error(&pgconn.PgError{Code: code, Message: "x"})
		if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
			t.Errorf("%s taken for a passing error", code)
		}
	}
}

// TestStatementTimeoutIsBusy: a write that waits past the server's lock
// timeout behind another transaction reaches the store's caller as
// EUNAVAILABLE, and the store works again once the lock goes.
func TestStatementTimeoutIsBusy(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	open(t, url) // migrated
	db := open(t, withParam(url, "lock_timeout=200ms"))
	k := trustbot.UserKey{Team: "T1", User: "UALICE"}
	if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "ja"}); err != nil {
		t.Fatal(err)
	}
	other, err := raw(t, url).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, `UPDATE settings SET lang = 'en'`); err != nil {
		t.Fatal(err)
	}
	err = db.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "ja"})
	if got := trustbot.ErrorCode(err); got != trustbot.EUNAVAILABLE {
		t.Fatalf("write behind a held lock: code %q (%v), want %q", got, err, trustbot.EUNAVAILABLE)
	}
	other.Rollback()
	if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "en"}); err != nil {
		t.Fatalf("write after the lock went: %v", err)
	}
}

// withParam adds a connection parameter to a URL.
func withParam(url, p string) string {
	if strings.Contains(url, "?") {
		return url + "&" + p
	}
	return url + "?" + p
}

// TestHotQueriesUseIndexes checks that an index can serve every query a
// dispatch pass runs (and a user's history and export): with sequential
// scans priced out, PostgreSQL's plan for each reads the tables through an
// index only. (On a few rows the planner prefers a scan, which is right
// for so few; a query no index can serve is planned as a scan all the
// same.)
func TestHotQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, url)
	storetest.SeedUser(t, db.Shared(), trustbot.UserKey{Team: "T1", User: "UALICE"}, "note")
	conn, err := raw(t, url).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	for name, q := range store.HotQueries {
		rows, err := conn.QueryContext(ctx, `EXPLAIN `+postgres.Dialect.Rebind(q.SQL), q.Args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		if strings.Contains(all, "Seq Scan") {
			t.Errorf("%s scans a table:\n%s", name, all)
		}
		t.Logf("%s:\n%s", name, all)
	}
}

// TestSilentServerTimesOut: a server that takes the connection and never
// answers is given up on after ConnectTimeout, with an error, not waited
// for as long as the system's TCP timeout.
func TestSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	defer func(d time.Duration) { postgres.ConnectTimeout = d }(postgres.ConnectTimeout)
	postgres.ConnectTimeout = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, "postgres://trustbot:s3cretpw42@"+ln.Addr().String()+"/trustbot?sslmode=disable")
	if err == nil {
		db.Close()
		t.Fatal("opened a database on a server that never answers")
	}
	if ctx.Err() != nil {
		t.Fatalf("waited for the caller's deadline instead of the connect timeout: %v", err)
	}
	if strings.Contains(err.Error(), "s3cretpw42") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestSendRateIsShared: on a database that several processes share, the
// send rate and a 429's pause are kept in it for all of them.
func TestSendRateIsShared(t *testing.T) {
	db := open(t, pgtest.URL(t))
	if db.SendSlots() == nil {
		t.Fatal("no shared send slots on PostgreSQL")
	}
}

// TestStoppedTransactionLetsOthersOn: a process stopped in the middle of
// a transaction (SIGSTOP, a frozen host), its row locked, holds up
// another process's write to that row only until IdleInTransaction has
// passed: the server ends the stopped transaction, the other write goes
// through, and the stopped process, resumed, is told "busy", its change
// rolled back, and works again. A timeout the URL sets is kept.
func TestStoppedTransactionLetsOthersOn(t *testing.T) {
	defer func(d time.Duration) { postgres.IdleInTransaction = d }(postgres.IdleInTransaction)
	postgres.IdleInTransaction = 300 * time.Millisecond
	ctx := context.Background()
	url := pgtest.URL(t)
	stopped, other := open(t, url), open(t, url)
	k := trustbot.UserKey{Team: "T1", User: "UALICE"}
	if err := stopped.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "ja"}); err != nil {
		t.Fatal(err)
	}
	locked, resume, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- stopped.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE settings SET lang = 'en' WHERE team = ? AND "user" = ?`, k.Team, k.User); err != nil {
				return err
			}
			close(locked)
			<-resume // stopped here, holding the row
			return nil
		})
	}()
	<-locked
	// Far longer than the timeout, far shorter than forever.
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := other.SaveSettings(wait, trustbot.Settings{UserKey: k, Lang: "ja"}); err != nil {
		t.Fatalf("a write behind a stopped transaction: %v", err)
	}
	close(resume)
	if err := <-done; trustbot.ErrorCode(err) != trustbot.EUNAVAILABLE {
		t.Fatalf("the stopped transaction, resumed: %v, want %s", err, trustbot.EUNAVAILABLE)
	}
	if s, err := other.Settings(ctx, k); err != nil || s.Lang != "ja" {
		t.Fatalf("after the stopped transaction: %+v %v", s, err)
	}
	if err := stopped.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "en"}); err != nil {
		t.Fatalf("the resumed process writes again: %v", err)
	}

	// A timeout named in the URL is the one the connections keep.
	var got string
	kept := open(t, withParam(url, "idle_in_transaction_session_timeout=7000"))
	if err := kept.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT current_setting('idle_in_transaction_session_timeout')`).Scan(&got)
	}); err != nil || got != "7s" {
		t.Fatalf("the URL's timeout: %q %v", got, err)
	}
}
