package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// MustOpen opens a database file in a fresh temp dir.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "trustbot.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var (
	alice = trustbot.UserKey{Team: "T1", User: "UALICE"}
	bob   = trustbot.UserKey{Team: "T1", User: "UBOB"}
	// aliceElsewhere has Alice's user ID in another workspace: a different person's data.
	aliceElsewhere = trustbot.UserKey{Team: "T2", User: "UALICE"}
)

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v, ms[len(ms)-1].Version; got != want {
		t.Fatalf("version = %d, want %d", got, want)
	}
	if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Opening again applies nothing twice and keeps the data.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Settings(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if s.Lang != "en" {
		t.Fatalf("lang after reopen = %q, want en", s.Lang)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	t.Run("DefaultsToAuto", func(t *testing.T) {
		s, err := db.Settings(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if s.Lang != trustbot.LangAuto || s.UserKey != alice {
			t.Fatalf("got %+v", s)
		}
	})
	t.Run("ScopedToWorkspaceAndUser", func(t *testing.T) {
		if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "ja"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			k    trustbot.UserKey
			want string
		}{{alice, "ja"}, {bob, "auto"}, {aliceElsewhere, "auto"}} {
			s, err := db.Settings(ctx, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if s.Lang != tc.want {
				t.Errorf("%s: lang = %q, want %q", tc.k, s.Lang, tc.want)
			}
		}
	})
}

func TestProfile(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	if _, err := db.Profile(ctx, alice); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("missing profile: err = %v, want ENOTFOUND", err)
	}
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	want := trustbot.Profile{UserKey: alice, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: at}
	if err := db.SaveProfile(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := db.Profile(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := db.Profile(ctx, aliceElsewhere); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("other workspace sees the profile: %v", err)
	}
}

func TestRecentTips(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i := range 250 {
		if err := db.RecordTipShown(ctx, alice, fmt.Sprintf("tip-%d", i), base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordTipShown(ctx, bob, "bobs-tip", base); err != nil {
		t.Fatal(err)
	}
	got, err := db.RecentTips(ctx, alice, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tip-249", "tip-248", "tip-247"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recent = %v, want %v", got, want)
	}
	all, err := db.RecentTips(ctx, alice, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 200 {
		t.Fatalf("kept %d rows, want the newest 200", len(all))
	}
	bobs, err := db.RecentTips(ctx, bob, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(bobs) != 1 || bobs[0] != "bobs-tip" {
		t.Fatalf("bob's tips = %v", bobs)
	}
}

// TestConcurrentWriters is the SQLITE_BUSY trap: read-then-write from
// many goroutines must never fail.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for g := range 8 {
		wg.Go(func() {
			k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%d", g)}
			for i := range 50 {
				if _, err := db.RecentTips(ctx, k, 5); err != nil {
					errs <- err
				}
				if err := db.RecordTipShown(ctx, k, fmt.Sprintf("t%d", i), time.Now()); err != nil {
					errs <- err
				}
				if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "ja"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write failed: %v", err)
	}
}

// TestLockedDatabase holds the write lock from another connection past the
// busy timeout: the store answers EUNAVAILABLE (the user is asked to try
// again) instead of an internal error, and works again once the lock goes.
func TestLockedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the busy timeout")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
	err = db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"})
	if got := trustbot.ErrorCode(err); got != trustbot.EUNAVAILABLE {
		t.Fatalf("write under a held lock: code %q (%v), want %q", got, err, trustbot.EUNAVAILABLE)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"}); err != nil {
		t.Fatalf("write after the lock was released: %v", err)
	}
}

// TestMoveJourneyIsFenced: a journey's follow-up moves only while it is
// still the one planned: not once a pass has claimed it (the step moved
// on), nor for another user.
func TestMoveJourneyIsFenced(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	due := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	j := trustbot.Journey{ID: "jmove", UserKey: alice, Kind: "cooling", State: trustbot.Active, Step: 1, Start: trustbot.DateOf(due), NextDueAt: due}
	if err := db.SaveJourney(ctx, j); err != nil {
		t.Fatal(err)
	}
	to := due.Add(14 * time.Hour)
	for _, tc := range []struct {
		name string
		k    trustbot.UserKey
		step int
		from time.Time
	}{
		{"another step", alice, 2, due},
		{"another due time", alice, 1, due.Add(time.Hour)},
		{"another user", bob, 1, due},
	} {
		if moved, err := db.MoveJourney(ctx, tc.k, j.ID, tc.step, tc.from, to); err != nil || moved {
			t.Errorf("%s: moved %v, err %v", tc.name, moved, err)
		}
	}
	if got, _ := db.Journey(ctx, alice, j.ID); !got.NextDueAt.Equal(due) {
		t.Fatalf("moved to %s by a fenced-off call", got.NextDueAt)
	}
	if moved, err := db.MoveJourney(ctx, alice, j.ID, 1, due, to); err != nil || !moved {
		t.Fatalf("moved %v, err %v", moved, err)
	}
	if got, _ := db.Journey(ctx, alice, j.ID); !got.NextDueAt.Equal(to) || got.Step != 1 {
		t.Fatalf("journey after the move: %+v", got)
	}
}
