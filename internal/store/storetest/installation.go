package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func installation(team, token string) trustbot.Installation {
	return trustbot.Installation{Team: team, AppID: "A1", BotUser: "UBOT" + team, Scopes: "chat:write,commands",
		BotToken: token, Installer: "UALICE"}
}

func testInstallations(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	db.Keys = Keyring(t, 1)
	first := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return first }
	a := installation("T1", "xoxb-secret-token-of-t1")
	a.RefreshToken, a.ExpiresAt = "xoxe-1-secret-refresh-of-t1", first.Add(12*time.Hour)
	if err := db.SaveInstallation(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveInstallation(ctx, installation("T2", "xoxb-secret-token-of-t2")); err != nil {
		t.Fatal(err)
	}
	org := trustbot.Installation{Enterprise: "E1", BotToken: "xoxb-secret-token-of-e1", Installer: "UADMIN"}
	if err := db.SaveInstallation(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveInstallation(ctx, trustbot.Installation{BotToken: "xoxb-x"}); trustbot.ErrorCode(err) != trustbot.EINVALID {
		t.Fatalf("an installation of nothing: %v", err)
	}

	got, err := db.Installation(ctx, "", "T1")
	if err != nil || got.BotToken != a.BotToken || got.RefreshToken != a.RefreshToken || !got.ExpiresAt.Equal(a.ExpiresAt) ||
		got.BotUser != "UBOTT1" || got.Scopes != a.Scopes || got.Installer != "UALICE" || !got.InstalledAt.Equal(first) || got.Disabled() {
		t.Fatalf("T1: %+v %v", got, err)
	}
	if got, err := db.Installation(ctx, "", "T2"); err != nil || got.BotToken != "xoxb-secret-token-of-t2" || !got.ExpiresAt.IsZero() {
		t.Fatalf("T2: %+v %v", got, err)
	}
	if got, err := db.Installation(ctx, "E1", ""); err != nil || got.BotToken != org.BotToken || got.Team != "" {
		t.Fatalf("organisation: %+v %v", got, err)
	}
	if _, err := db.Installation(ctx, "", "T3"); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("a workspace never installed: %v", err)
	}

	// Sealed at rest: no token is stored as it is.
	raw := h.bytes(t, db)
	for _, tok := range []string{"xoxb-secret-token-of-t1", "xoxe-1-secret-refresh-of-t1", "xoxb-secret-token-of-t2", "xoxb-secret-token-of-e1"} {
		if bytes.Contains(raw, []byte(tok)) {
			t.Errorf("%s is readable in the database's files", tok)
		}
		if places, err := db.Mentions(ctx, tok); err != nil || len(places) > 0 {
			t.Errorf("%s is stored as it is in %v (%v)", tok, places, err)
		}
	}
	// A new key: rekey moves the tokens to it too.
	db.Keys = Keyring(t, 2, 1)
	if _, skipped, err := db.Rekey(ctx); err != nil || skipped != 0 {
		t.Fatalf("rekey: %d skipped, %v", skipped, err)
	}
	db.Keys = Keyring(t, 2)
	if got, err := db.Installation(ctx, "", "T1"); err != nil || got.BotToken != a.BotToken {
		t.Fatalf("after rekey: %+v %v", got, err)
	}

	// Uninstalled, then installed again: the same installation, enabled,
	// with the new token and its first install time.
	later := first.Add(48 * time.Hour)
	db.Now = func() time.Time { return later }
	if ok, err := db.DisableInstallation(ctx, "", "T1"); !ok || err != nil {
		t.Fatalf("disable: %v %v", ok, err)
	}
	if ok, err := db.DisableInstallation(ctx, "", "T1"); ok || err != nil {
		t.Fatalf("disabled twice: %v %v", ok, err)
	}
	got, err = db.Installation(ctx, "", "T1")
	if err != nil || !got.Disabled() || got.BotToken != "" || got.RefreshToken != "" || !got.ExpiresAt.IsZero() {
		t.Fatalf("disabled: %+v %v", got, err)
	}
	if got, _ := db.Installation(ctx, "", "T2"); got.Disabled() || got.BotToken == "" {
		t.Fatalf("T2 disabled with T1: %+v", got)
	}
	b := installation("T1", "xoxb-second-token-of-t1")
	b.Installer = "UBOB"
	if err := db.SaveInstallation(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err = db.Installation(ctx, "", "T1")
	if err != nil || got.Disabled() || got.BotToken != b.BotToken || got.RefreshToken != "" || !got.InstalledAt.Equal(first) ||
		!got.UpdatedAt.Equal(later) || got.Installer != "UBOB" {
		t.Fatalf("reinstalled: %+v %v", got, err)
	}

	// The installer who asks to be forgotten is no longer named.
	if err := db.Forget(ctx, trustbot.UserKey{Team: "T1", User: "UBOB"}); err != nil {
		t.Fatal(err)
	}
	if places, err := db.Mentions(ctx, "UBOB"); err != nil || len(places) > 0 {
		t.Fatalf("the forgotten installer is still in %v (%v)", places, err)
	}
	if got, _ := db.Installation(ctx, "", "T1"); got.BotToken != b.BotToken {
		t.Fatalf("forgetting the installer took the installation: %+v", got)
	}
}

// testUninstallCancelsOnlyItsWorkspace: an uninstall cancels the
// workspace's deliveries waiting to be sent, and nothing of another
// workspace; the users' data stays.
func testUninstallCancelsOnlyItsWorkspace(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for _, k := range []trustbot.UserKey{alice, aliceElsewhere} {
		if err := db.SaveInstallation(ctx, installation(k.Team, "xoxb-"+k.Team)); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveSchedule(ctx, Schedule(k, due)); err != nil {
			t.Fatal(err)
		}
	}
	if ds, err := db.ClaimDue(ctx, due, 10, WeekAdvance); err != nil || len(ds) != 2 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if ok, err := db.DisableInstallation(ctx, "", alice.Team); !ok || err != nil {
		t.Fatalf("disable: %v %v", ok, err)
	}
	ds, err := db.Deliverable(ctx, due, 10)
	if err != nil || len(ds) != 1 || ds[0].UserKey != aliceElsewhere {
		t.Fatalf("deliverable after T1's uninstall: %+v %v", ds, err)
	}
	if s, err := db.Schedule(ctx, alice); err != nil || !s.Active {
		t.Fatalf("alice's schedule after the uninstall: %+v %v", s, err)
	}
}

// testOrgWorkspaces: a workspace of an organisation installed for all its
// workspaces uses the organisation's installation, unless it has one of
// its own; the organisation's uninstall cancels what waits in its
// workspaces, and a workspace the app is taken from loses it.
func testOrgWorkspaces(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	org := trustbot.Installation{Enterprise: "E1", BotToken: "xoxb-org", Installer: "UADMIN"}
	if err := db.SaveInstallation(ctx, org); err != nil {
		t.Fatal(err)
	}
	own := installation("T3", "xoxb-own-of-t3")
	own.Enterprise = "E1"
	if err := db.SaveInstallation(ctx, own); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Installation(ctx, "", "T1"); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("a workspace not known to be the organisation's: %v", err)
	}
	for _, team := range []string{"T1", "T2", "T3"} {
		if added, err := db.AddOrgWorkspace(ctx, "E1", team); !added || err != nil {
			t.Fatalf("add %s: %v %v", team, added, err)
		}
	}
	if added, err := db.AddOrgWorkspace(ctx, "E1", "T1"); added || err != nil {
		t.Fatalf("added twice: %v %v", added, err)
	}
	for team, want := range map[string]string{"T1": "xoxb-org", "T2": "xoxb-org", "T3": "xoxb-own-of-t3"} {
		if got, err := db.Installation(ctx, "", team); err != nil || got.BotToken != want {
			t.Fatalf("%s: %+v %v", team, got, err)
		}
	}
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	keys := []trustbot.UserKey{{Team: "T1", User: "WA"}, {Team: "T2", User: "WA"}, {Team: "T3", User: "WA"}, {Team: "T4", User: "WA"}}
	for _, k := range keys {
		if err := db.SaveSchedule(ctx, Schedule(k, due)); err != nil {
			t.Fatal(err)
		}
	}
	if ds, err := db.ClaimDue(ctx, due, 10, WeekAdvance); err != nil || len(ds) != 4 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if removed, err := db.RemoveOrgWorkspace(ctx, "E1", "T2"); !removed || err != nil {
		t.Fatalf("remove T2: %v %v", removed, err)
	}
	if _, err := db.Installation(ctx, "", "T2"); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("T2 after the app was taken from it: %v", err)
	}
	if ok, err := db.DisableInstallation(ctx, "E1", ""); !ok || err != nil {
		t.Fatalf("disable the organisation: %v %v", ok, err)
	}
	if got, err := db.Installation(ctx, "", "T1"); err != nil || !got.Disabled() || got.BotToken != "" {
		t.Fatalf("T1 after the organisation's uninstall: %+v %v", got, err)
	}
	if got, err := db.Installation(ctx, "", "T3"); err != nil || got.BotToken != "xoxb-own-of-t3" {
		t.Fatalf("T3, installed on its own: %+v %v", got, err)
	}
	ds, err := db.Deliverable(ctx, due, 10)
	var left []string
	for _, d := range ds {
		left = append(left, d.Team)
	}
	if err != nil || len(left) != 2 || !slices.Contains(left, "T3") || !slices.Contains(left, "T4") {
		t.Fatalf("deliverable after the organisation's uninstall: %v %v", left, err)
	}
}

// testRefreshOnceAtOnce has two stores (two processes) renew the same
// expiring token at once, several times over: Slack is asked once, and
// both read the new pair.
func testRefreshOnceAtOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	in := installation("T1", "xoxe.xoxb-old")
	in.RefreshToken, in.ExpiresAt = "xoxe-1-old", now.Add(time.Minute)
	if err := a.SaveInstallation(ctx, in); err != nil {
		t.Fatal(err)
	}
	const callers = 8
	var calls, started atomic.Int32
	all := make(chan struct{})
	refresh := func(old trustbot.Installation) (trustbot.Installation, error) {
		if old.RefreshToken != "xoxe-1-old" {
			return old, errors.New("refreshed with " + old.RefreshToken)
		}
		if calls.Add(1) == 1 {
			// Slack takes its time: the other callers are under way
			// meanwhile, and would read the old pair without the lock.
			<-all
			time.Sleep(50 * time.Millisecond)
		}
		old.BotToken, old.RefreshToken, old.ExpiresAt = "xoxe.xoxb-new", "xoxe-1-new", now.Add(12*time.Hour)
		return old, nil
	}
	var wg sync.WaitGroup
	for i := range callers {
		db := []*store.DB{a, b}[i%2]
		wg.Go(func() {
			if started.Add(1) == callers {
				close(all)
			}
			for {
				got, err := db.RefreshInstallation(ctx, "", "T1", now.Add(10*time.Minute), refresh)
				if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
					continue
				}
				if err != nil || got.BotToken != "xoxe.xoxb-new" {
					t.Errorf("refresh: %+v %v", got, err)
				}
				return
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("Slack asked %d times", n)
	}
	got, err := b.Installation(ctx, "", "T1")
	if err != nil || got.RefreshToken != "xoxe-1-new" || !got.ExpiresAt.Equal(now.Add(12*time.Hour)) {
		t.Fatalf("stored: %+v %v", got, err)
	}
	// A failed refresh keeps what was stored.
	_, err = a.RefreshInstallation(ctx, "", "T1", now.Add(13*time.Hour), func(trustbot.Installation) (trustbot.Installation, error) {
		return trustbot.Installation{}, errors.New("invalid_refresh_token")
	})
	if err == nil {
		t.Fatal("a failed refresh reported as done")
	}
	if got, _ := a.Installation(ctx, "", "T1"); got.BotToken != "xoxe.xoxb-new" {
		t.Fatalf("after a failed refresh: %+v", got)
	}
}

func testOAuthStates(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	// Saving a state deletes those expired a day before the store's
	// clock: the states here expire around that clock, not on a fixed
	// date that would age into that window.
	now := time.Now().UTC().Truncate(time.Second)
	for _, s := range []string{"s1", "s2", "s3"} {
		if err := db.SaveOAuthState(ctx, s, "browser-a", now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.ConsumeOAuthState(ctx, "s1", "browser-a", now.Add(9*time.Minute)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := db.ConsumeOAuthState(ctx, "s1", "browser-a", now.Add(9*time.Minute)); !errors.Is(err, trustbot.ErrStateUnknown) {
		t.Fatalf("replayed: %v", err)
	}
	if err := db.ConsumeOAuthState(ctx, "s2", "browser-a", now.Add(10*time.Minute)); !errors.Is(err, trustbot.ErrStateExpired) {
		t.Fatalf("expired: %v", err)
	}
	if err := db.ConsumeOAuthState(ctx, "s3", "browser-b", now); !errors.Is(err, trustbot.ErrStateBrowser) {
		t.Fatalf("another browser: %v", err)
	}
	if err := db.ConsumeOAuthState(ctx, "s3", "browser-a", now); !errors.Is(err, trustbot.ErrStateUnknown) {
		t.Fatalf("a state tried by another browser is still usable: %v", err)
	}
	if err := db.ConsumeOAuthState(ctx, "never", "browser-a", now); !errors.Is(err, trustbot.ErrStateUnknown) {
		t.Fatalf("never handed out: %v", err)
	}
}
