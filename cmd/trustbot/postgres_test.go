package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// pgWithPassword returns the URL of a new PostgreSQL database for the
// test with a password in it, and the password: no command may show it.
// The test server trusts every local connection, so any password works.
func pgWithPassword(t *testing.T) (dsn, password string) {
	t.Helper()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	password = "s3cret-pw"
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String(), password
}

// TestOnPostgreSQL runs the program on a PostgreSQL database named by a
// URL in TRUSTBOT_DB: serve saves a check-in, a dispatch pass sends it
// once, and migrate, export, the console, rekey, a dry run and forget
// work on it; backup, which copies a SQLite file, says what to do
// instead. No command shows the URL's password.
func TestOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	dsn, password := pgWithPassword(t)
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_DB": dsn})
	_, r := bot.Slash(t, enUser, "checkin weekly tue 9:30")
	if !strings.Contains(r.raw, mustLibrary(t).T(trustbot.English, "checkin.saved")) {
		t.Fatalf("cadence not saved: %s", r.raw)
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := trustbot.UserKey{Team: fakeslack.TeamID, User: enUser}
	s, err := db.Schedule(ctx, k)
	if err != nil || !s.Active {
		t.Fatalf("the schedule in PostgreSQL: %+v %v", s, err)
	}
	due := s.NextDueAt
	if out := bot.Dispatch(t, "--now", due.Format(time.RFC3339)); !strings.Contains(out, "1 claimed, 1 sent") {
		t.Fatalf("dispatch at the due time:\n%s", out)
	}
	if out := bot.Dispatch(t, "--now", due.Add(30*time.Second).Format(time.RFC3339)); !strings.Contains(out, "0 claimed, 0 sent") {
		t.Fatalf("second dispatch sent again:\n%s", out)
	}
	if msgs := bot.Slack.Messages("D" + enUser); len(msgs) != 1 {
		t.Fatalf("%d DMs, want exactly one", len(msgs))
	}

	// The commands run beside serve: on PostgreSQL no file lock keeps
	// them apart.
	env := map[string]string{"TRUSTBOT_DB": dsn}
	ms, _ := postgres.Migrations()
	code, out, stderr := runCmd(t, env, "", "migrate")
	if code != 0 || strings.Contains(out+stderr, password) || !strings.Contains(out, fmt.Sprintf("schema version %d", ms[len(ms)-1].Version)) {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCmd(t, env, "", "export", "--team", k.Team, "--user", k.User)
	var data struct {
		User string `json:"user"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &data) != nil || data.User != k.User {
		t.Fatalf("export: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr := runCmd(t, env, "checkin weekly\n", "console", "--user", "UCONSOLE", "--team", "TCONSOLE", "--lang", "en"); code != 0 {
		t.Fatalf("console: exit %d\n%s\n%s", code, out, stderr)
	}
	if s, err := db.Schedule(ctx, trustbot.UserKey{Team: "TCONSOLE", User: "UCONSOLE"}); err != nil || !s.Active {
		t.Fatalf("the console's check-in in PostgreSQL: %+v %v", s, err)
	}
	if code, out, stderr := runCmd(t, env, "", "rekey"); code != 0 {
		t.Fatalf("rekey: exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = runCmd(t, env, "", "backup", "copy.db")
	if code == 0 || !strings.Contains(stderr, "pg_dump") {
		t.Errorf("backup on PostgreSQL: exit %d, %s; want a refusal naming pg_dump", code, stderr)
	}
	// A dry run works on a private SQLite copy of the rows, and changes
	// nothing in the database.
	before, err := db.Schedule(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	later := before.NextDueAt.Add(time.Minute).Format(time.RFC3339)
	code, out, stderr = runCmd(t, env, "", "dispatch", "--dry-run", "--now", later)
	if code != 0 || !strings.Contains(out, "checkin "+k.Team+" "+k.User) || !strings.Contains(out, "nothing changed") || strings.Contains(out+stderr, password) {
		t.Errorf("dry run on PostgreSQL: exit %d\n%s\n%s", code, out, stderr)
	}
	if after, err := db.Schedule(ctx, k); err != nil || !after.NextDueAt.Equal(before.NextDueAt) {
		t.Errorf("the dry run moved the check-in from %s to %s (%v)", before.NextDueAt, after.NextDueAt, err)
	}
	if n := len(bot.Slack.Messages("D" + enUser)); n != 1 {
		t.Errorf("%d DMs after the dry run, want the one sent before", n)
	}
	_, r = bot.Slash(t, enUser, "forget")
	if done := bot.Press(t, enUser, r, "forget.confirm", ""); !strings.Contains(done.raw, "Everything about you is deleted") {
		t.Fatalf("forget: %s", done.raw)
	}
	if places, err := db.Mentions(ctx, k.User); err != nil || len(places) > 0 {
		t.Fatalf("after forget, %s is still in %v (%v)", k.User, places, err)
	}
	if strings.Contains(bot.Stderr.String(), password) {
		t.Error("serve's log shows the database password")
	}
}
