package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// seedCheckin gives user a check-in answered with a note.
func seedCheckin(t *testing.T, bot *Bot, user, note string) {
	t.Helper()
	bot.Slash(t, user, "checkin weekly fri 16:00")
	due := bot.dueAt(t, user)
	bot.Dispatch(t, "--now", due.Format(time.RFC3339))
	dms := bot.Slack.Messages("D" + user)
	var id string
	for _, raw := range messageReply(dms[len(dms)-1]).Blocks {
		if i := strings.Index(string(raw), `"value":"d`); i >= 0 && id == "" {
			id = string(raw)[i+9 : i+9+25]
		}
	}
	env, err := bot.Slack.Interactive(map[string]any{
		"type": "view_submission", "user": map[string]string{"id": user, "team_id": fakeslack.TeamID},
		"team": map[string]string{"id": fakeslack.TeamID},
		"view": map[string]any{"id": "V9", "type": "modal", "callback_id": "checkin.note", "private_metadata": id,
			"state": map[string]any{"values": map[string]any{"note": map[string]any{"note": map[string]string{"value": note}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bot.Slack.WaitAck(ctxTimeout(t), env)
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		if m := bot.Slack.Messages("D" + user); strings.Contains(string(m[len(m)-1].Blocks), note) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("note %q not saved", note)
}

func TestExportAndForget(t *testing.T) {
	t.Parallel() // its own fake platform and database
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(strings.Repeat("09", 32)+"\n"), 0o600)
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_ENCRYPTION_KEY_FILE": keyFile})
	seedCheckin(t, bot, enUser, "my very private note")
	seedCheckin(t, bot, jaUser, "じぶんだけのメモ")

	t.Run("NoteSealedAtRest", func(t *testing.T) {
		db := testdb.OpenAt(t, bot.DB)
		for _, note := range []string{"my very private note", "じぶんだけのメモ"} {
			if places, err := db.Mentions(context.Background(), note); err != nil || len(places) > 0 {
				t.Fatalf("a note is readable in %v (%v)", places, err)
			}
		}
		db.Close()
		if testdb.Postgres(t) {
			return // the bytes of the files below are SQLite's
		}
		for _, p := range []string{bot.DB, bot.DB + "-wal"} {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte("my very private note")) || bytes.Contains(b, []byte("じぶんだけのメモ")) {
				t.Fatalf("a note is readable in %s", p)
			}
		}
	})

	t.Run("Export", func(t *testing.T) {
		if _, r := bot.Slash(t, enUser, "export"); !strings.Contains(r.raw, "JSON") {
			t.Fatalf("no summary where the export was asked: %s", r.raw)
		}
		deadline := time.Now().Add(patience)
		for len(bot.Slack.Files()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		files := bot.Slack.Files()
		if len(files) != 1 || files[0].Channel != "D"+enUser || !strings.Contains(files[0].Comment, "JSON") {
			t.Fatalf("export file: %+v", files)
		}
		var data coach.Export
		if err := json.Unmarshal(files[0].Content, &data); err != nil {
			t.Fatal(err)
		}
		if data.User != enUser || len(data.Reflections) != 1 || data.Reflections[0].Note == nil ||
			*data.Reflections[0].Note != "my very private note" || data.Checkins == nil {
			t.Fatalf("exported data: %+v", data)
		}
		if strings.Contains(string(files[0].Content), jaUser) {
			t.Fatal("the export holds another user's data")
		}
	})

	t.Run("Forget", func(t *testing.T) {
		// The sealed note as stored: after forget, not even that remains.
		var sealed string
		raw := openRaw(t, bot.DB)
		if err := raw.QueryRow(`SELECT note FROM reflections WHERE "user" = ?`, enUser).Scan(&sealed); err != nil || !strings.HasPrefix(sealed, "enc1:") {
			t.Fatalf("sealed note: %q %v", sealed, err)
		}
		raw.Close()
		_, r := bot.Slash(t, enUser, "forget")
		done := bot.Press(t, enUser, r, "forget.confirm", "")
		if !strings.Contains(done.raw, "Everything about you is deleted") {
			t.Fatalf("forget: %s", done.raw)
		}
		// The bytes on disk, read while the bot runs (SQLite's files).
		if !testdb.Postgres(t) {
			var disk []byte
			for _, p := range []string{bot.DB, bot.DB + "-wal", bot.DB + "-shm"} {
				b, err := os.ReadFile(p)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				disk = append(disk, b...)
			}
			for _, needle := range []string{enUser, sealed[len(sealed)-24:]} {
				if bytes.Contains(disk, []byte(needle)) {
					t.Errorf("after forget, the files on disk hold %q", needle)
				}
			}
			if !bytes.Contains(disk, []byte(jaUser)) {
				t.Error("the other user is not on disk either: the scan sees nothing")
			}
		}
		db := testdb.OpenAt(t, bot.DB)
		places, err := db.Mentions(context.Background(), enUser)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range places {
			t.Errorf("after forget, %s still holds %s", p, enUser)
		}
		others, err := db.Mentions(context.Background(), jaUser)
		db.Close()
		if err != nil || len(others) == 0 {
			t.Fatalf("forget removed another user's data (%v)", err)
		}
		// Nothing more is sent to them.
		before := len(bot.Slack.Messages("D" + enUser))
		bot.Dispatch(t, "--now", time.Now().Add(60*24*time.Hour).Format(time.RFC3339))
		if n := len(bot.Slack.Messages("D" + enUser)); n != before {
			t.Fatalf("%d new DMs after forget", n-before)
		}
	})

	// The logs of this whole run (commands, check-ins, notes, an export,
	// forgetting) carry no secret and no note.
	t.Run("LogsHoldNoSecrets", func(t *testing.T) {
		bot.Stop(t)
		logs := bot.Stderr.String()
		for _, s := range []string{fakeslack.BotToken, fakeslack.AppToken, strings.Repeat("09", 32), "my very private note", "じぶんだけのメモ"} {
			if strings.Contains(logs, s) {
				t.Errorf("the logs contain %q", s)
			}
		}
		if !strings.Contains(logs, "encryption=true") {
			t.Error("the log does not say encryption is on")
		}
	})
}

// TestRetention: with TRUSTBOT_RETENTION set, serve deletes reflections
// older than that (at start, then daily) and keeps recent ones.
func TestRetention(t *testing.T) {
	path := testdb.EmptyDSN(t)
	ctx := context.Background()
	db := testdb.OpenAt(t, path)
	k := trustbot.UserKey{Team: fakeslack.TeamID, User: jaUser}
	for _, at := range []time.Time{time.Now().AddDate(-3, 0, 0), time.Now().Add(-24 * time.Hour)} {
		if err := db.SaveSchedule(ctx, trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: at.Weekday(), Minute: 600,
			Active: true, Occurrence: trustbot.DateOf(at), NextDueAt: at}); err != nil {
			t.Fatal(err)
		}
		ds, err := db.ClaimDue(ctx, at, 10, func(s trustbot.Schedule, _ trustbot.Prefs) (trustbot.Schedule, int) {
			s.Active = false
			return s, 0
		})
		if err != nil || len(ds) != 1 {
			t.Fatalf("seed: %v %v", ds, err)
		}
		db.MarkSending(ctx, ds[0].ID, "seed", at)
		db.MarkSent(ctx, ds[0].ID, "seed", trustbot.Posted{Channel: "D" + jaUser, TS: "1.1"}, at)
		db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: ds[0].ID, UserKey: k, Note: "note of " + at.Format("2006"), AnsweredAt: at})
	}
	db.Close()
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_DB": path, "TRUSTBOT_RETENTION": "730d"})
	deadline := time.Now().Add(patience)
	for {
		db := testdb.OpenAt(t, path)
		rs, err := db.Reflections(ctx, k, "checkin", 10)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 1 {
			if want := "note of " + time.Now().Add(-24*time.Hour).Format("2006"); rs[0].Answers.Note != want {
				t.Fatalf("kept %q, want the recent %q", rs[0].Answers.Note, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reflections after start with a 730-day retention, want 1\n%s", len(rs), bot.Stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, _ := runCmd(t, map[string]string{"TRUSTBOT_RETENTION": "forever"}, "", "migrate"); code != 2 {
		t.Errorf("TRUSTBOT_RETENTION=forever accepted")
	}
}

// TestTextThatLooksSealed: with encryption off (the default), one user
// types a journey label and a note shaped like sealed values. Every other
// user still gets their DMs, and that user's own history, export and a
// rekey of the whole database still work.
func TestTextThatLooksSealed(t *testing.T) {
	t.Parallel() // its own fake platform and database
	const lookalike = "enc1:deadbeef:AAAA"
	bot := MustRunBot(t, nil)
	seedCheckin(t, bot, enUser, lookalike)
	if _, r := bot.Slash(t, enUser, "declined "+lookalike); !strings.Contains(r.raw, lookalike) {
		t.Fatalf("declined: %s", r.raw)
	}
	bot.Slash(t, jaUser, "checkin weekly fri 16:00")
	due := bot.dueAt(t, jaUser)
	if next := bot.journey(t, enUser, "cooling").NextDueAt; next.After(due) {
		due = next
	}
	beforeJa, beforeEn := len(bot.Slack.Messages("D"+jaUser)), len(bot.Slack.Messages("D"+enUser))
	bot.Dispatch(t, "--now", due.Format(time.RFC3339))
	if n := len(bot.Slack.Messages("D" + jaUser)); n != beforeJa+1 {
		t.Errorf("%s got %d new DMs, want the check-in", jaUser, n-beforeJa)
	}
	if n := len(bot.Slack.Messages("D" + enUser)); n < beforeEn+1 {
		t.Errorf("%s got no journey follow-up", enUser)
	}
	if _, h := bot.Slash(t, enUser, "history"); !strings.Contains(h.raw, lookalike) {
		t.Errorf("history lacks the note as typed: %s", h.raw)
	}
	code, out, stderr := runCmd(t, bot.Env, "", "export", "--team", fakeslack.TeamID, "--user", enUser)
	if code != 0 || !json.Valid([]byte(out)) {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	if n := strings.Count(out, lookalike); n < 2 {
		t.Errorf("export holds the label and the note as typed %d times, want both:\n%s", n, out)
	}
	if code, out, stderr := runCmd(t, bot.Env, "", "rekey"); code != 0 || strings.Contains(out, "could not") {
		t.Errorf("rekey: exit %d\n%s\n%s", code, out, stderr)
	}
}
