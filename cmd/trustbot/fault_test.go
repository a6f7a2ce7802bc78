package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestDispatchRefusesAFarFuture: "dispatch --now" a year ahead would move
// every schedule a year on and count the real occurrences in between as
// missed. More than a day ahead it is refused unless --force is given
// (a dry run changes nothing and needs none).
func TestDispatchRefusesAFarFuture(t *testing.T) {
	t.Parallel() // its own fake platform and database
	ctx := context.Background()
	fake := fakeslack.New()
	defer fake.Close()
	dbPath := testdb.EmptyDSN(t)
	store := testdb.OpenAt(t, dbPath)
	k := trustbot.UserKey{Team: fakeslack.TeamID, User: "UFUTURE"}
	due := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	if err := store.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "UTC", Locale: "en-US", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := store.SaveSchedule(ctx, trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: due.Weekday(),
		Minute: due.Hour()*60 + due.Minute(), Active: true, Occurrence: trustbot.DateOf(due), NextDueAt: due}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	env := map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL(), "TRUSTBOT_DB": dbPath}
	next := func() time.Time {
		t.Helper()
		db := testdb.OpenAt(t, dbPath)
		defer db.Close()
		s, err := db.Schedule(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return s.NextDueAt
	}

	far := time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)
	code, _, stderr := runCmd(t, env, "", "dispatch", "--now", far)
	if code != 2 || !strings.Contains(stderr, "--force") {
		t.Fatalf("dispatch a year ahead: exit %d, %s; want 2 and a word about --force", code, stderr)
	}
	if got := next(); !got.Equal(due) {
		t.Fatalf("a refused dispatch moved the schedule to %s", got)
	}
	if n := len(fake.Calls("")); n != 0 {
		t.Fatalf("a refused dispatch called Slack %d times", n)
	}
	if code, out, stderr := runCmd(t, env, "", "dispatch", "--dry-run", "--now", far); code != 0 || !strings.Contains(out, "UFUTURE") {
		t.Fatalf("dry run a year ahead: exit %d\n%s\n%s", code, out, stderr)
	}
	// Within a day: allowed.
	soon := due.Format(time.RFC3339)
	if code, out, stderr := runCmd(t, env, "", "dispatch", "--now", soon); code != 0 || !strings.Contains(out, "1 sent") {
		t.Fatalf("dispatch an hour ahead: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr := runCmd(t, env, "", "dispatch", "--force", "--now", far); code != 0 {
		t.Fatalf("dispatch --force a year ahead: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := next(); got.Before(time.Now().AddDate(1, 0, 0)) {
		t.Fatalf("with --force the pass ran as of a year ahead, yet the schedule is at %s", got)
	}
}

// TestRefusedWhileClocksDisagree: this host's clock two hours ahead of
// Slack's (read from the Date header of its answers). serve does not start,
// and says why; dispatch sends nothing without --force. Once the clocks
// agree, serve starts.
func TestRefusedWhileClocksDisagree(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	fake.SetClockOffset(-2 * time.Hour)
	env := map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL(), "TRUSTBOT_DB": testdb.EmptyDSN(t)}
	// Bounded: a serve that does start runs until this ends.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var errOut bytes.Buffer
	code := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &errOut)
	stderr := errOut.String()
	if code != 1 || !strings.Contains(stderr, "this host's clock is 2h0m0s ahead of Slack's") || !strings.Contains(stderr, "disagree") {
		t.Fatalf("serve with the clocks two hours apart: exit %d\n%s", code, stderr)
	}
	if n := len(fake.Calls("apps.connections.open")); n != 0 {
		t.Fatalf("serve connected %d times with the clocks apart", n)
	}
	code, _, stderr = runCmd(t, env, "", "dispatch")
	if code != 1 || !strings.Contains(stderr, "--force") {
		t.Fatalf("dispatch with the clocks apart: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runCmd(t, env, "", "dispatch", "--force"); code != 0 || !strings.Contains(stderr, "sending anyway") {
		t.Fatalf("dispatch --force with the clocks apart: exit %d\n%s", code, stderr)
	}
	fake.SetClockOffset(4 * time.Minute) // within the limit
	bot := &Bot{Slack: fake, Stderr: &syncBuffer{}, Env: env}
	bot.Start(t)
	bot.Stop(t)
}
