package sqlite_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestCachedReadsFollowWrites: settings and profiles read through the
// cache show every write at once.
func TestCachedReadsFollowWrites(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s, err := db.Settings(ctx, alice)
	if err != nil || s.Lang != trustbot.LangAuto {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	if _, err := db.Profile(ctx, alice); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("profile before any: %v", err)
	}
	s.Lang = "en"
	if err := db.SaveSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Settings(ctx, alice); s.Lang != "en" {
		t.Fatalf("after SaveSettings: lang %q", s.Lang)
	}
	if err := db.SaveProfile(ctx, trustbot.Profile{UserKey: alice, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Settings(ctx, alice); s.Prefs.TZ != "Asia/Tokyo" {
		t.Fatalf("after SaveProfile: zone %q", s.Prefs.TZ)
	}
	if p, err := db.Profile(ctx, alice); err != nil || p.Locale != "ja-JP" {
		t.Fatalf("after SaveProfile: %+v %v", p, err)
	}
	if err := db.Forget(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Settings(ctx, alice); s.Lang != trustbot.LangAuto || s.Prefs.TZ != "" {
		t.Fatalf("after Forget: %+v", s)
	}
	if _, err := db.Profile(ctx, alice); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("profile after Forget: %v", err)
	}
}

// TestTipsShownWrittenInGroups: a record is seen at once by RecentTips,
// reaches the file by Close at the latest, and one forgotten before it was
// written never does.
func TestTipsShownWrittenInGroups(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		db.RecordTipShown(ctx, alice, id, at.Add(time.Duration(i)*time.Second))
		db.RecordTipShown(ctx, bob, id, at.Add(time.Duration(i)*time.Second))
	}
	if got, _ := db.RecentTips(ctx, alice, 30); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("recent before writing: %v", got)
	}
	db.RecordTipShown(ctx, alice, "d", at.Add(time.Minute))
	if got, _ := db.RecentTips(ctx, alice, 2); !slices.Equal(got, []string{"d", "c"}) {
		t.Fatalf("recent after one more: %v", got)
	}
	if err := db.Forget(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, _ := db.RecentTips(ctx, alice, 30); !slices.Equal(got, []string{"d", "c", "b", "a"}) {
		t.Fatalf("recent after reopening: %v", got)
	}
	if got, _ := db.RecentTips(ctx, bob, 30); len(got) != 0 {
		t.Fatalf("a forgotten user's tips came back: %v", got)
	}
	if m, err := db.Mentions(ctx, bob.User); err != nil || len(m) != 0 {
		t.Fatalf("bob still in %v (%v)", m, err)
	}
}
