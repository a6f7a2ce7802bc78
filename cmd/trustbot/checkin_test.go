package main

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Dispatch runs "trustbot dispatch" with the bot's configuration. The
// tests travel in time: --force lets --now go more than a day ahead. Only
// one trustbot sends from a database at a time, so a running bot is
// stopped for the pass and started again after it; a dry run sends
// nothing and runs beside it.
func (b *Bot) Dispatch(t *testing.T, args ...string) string {
	t.Helper()
	if b.cancel != nil && !slices.Contains(args, "--dry-run") {
		b.Stop(t)
		defer b.Start(t)
	}
	code, out, stderr := runCmd(t, b.Env, "", append([]string{"dispatch", "--force"}, args...)...)
	if code != 0 {
		t.Fatalf("dispatch %v: exit %d\n%s\n%s", args, code, out, stderr)
	}
	return out
}

var dueLine = regexp.MustCompile(`(?m)^  checkin \S+ (\S+) occurrence (\S+) due (\S+)$`)

// dueAt finds when user's next check-in is due, from a dry run far ahead.
func (b *Bot) dueAt(t *testing.T, user string) time.Time {
	t.Helper()
	out := b.Dispatch(t, "--dry-run", "--now", time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339))
	for _, m := range dueLine.FindAllStringSubmatch(out, -1) {
		if m[1] == user {
			at, err := time.Parse(time.RFC3339, m[3])
			if err != nil {
				t.Fatal(err)
			}
			return at
		}
	}
	t.Fatalf("no check-in due for %s in:\n%s", user, out)
	return time.Time{}
}

// messageReply turns a posted message into the shape Press reads.
func messageReply(m fakeslack.Message) reply {
	r := reply{Text: m.Text, raw: string(m.Blocks)}
	json.Unmarshal(m.Blocks, &r.Blocks)
	return r
}

func TestCheckinEndToEnd(t *testing.T) {
	t.Parallel() // its own fake platform and database
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)
	for _, tc := range []struct {
		user, cmd string
		lang      trustbot.Lang
		weekday   time.Weekday
		zone      string
	}{
		{jaUser, "振り返り 毎週 金 16:00", trustbot.Japanese, time.Friday, "Asia/Tokyo"},
		{enUser, "checkin weekly tue 9:30", trustbot.English, time.Tuesday, "Europe/London"},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			_, r := bot.Slash(t, tc.user, tc.cmd)
			if !strings.Contains(r.raw, lib.T(tc.lang, "checkin.saved")) {
				t.Fatalf("cadence not saved: %s", r.raw)
			}
			due := bot.dueAt(t, tc.user)
			loc, _ := time.LoadLocation(tc.zone)
			if local := due.In(loc); local.Weekday() != tc.weekday || local.Format("15:04") != map[time.Weekday]string{time.Friday: "16:00", time.Tuesday: "09:30"}[tc.weekday] {
				// A Japanese holiday on that Friday moves it to the next workday at the same time.
				if tc.lang != trustbot.Japanese || local.Format("15:04") != "16:00" {
					t.Fatalf("due %s local %s", due, local)
				}
			}
			dm := "D" + tc.user

			out := bot.Dispatch(t, "--now", due.Add(-time.Minute).Format(time.RFC3339))
			if !strings.Contains(out, "0 claimed, 0 sent") || len(bot.Slack.Messages(dm)) != 0 {
				t.Fatalf("sent before it was due:\n%s", out)
			}
			out = bot.Dispatch(t, "--now", due.Format(time.RFC3339))
			if !strings.Contains(out, "1 claimed, 1 sent") {
				t.Fatalf("dispatch at the due time:\n%s", out)
			}
			out = bot.Dispatch(t, "--now", due.Add(30*time.Second).Format(time.RFC3339))
			if !strings.Contains(out, "0 claimed, 0 sent") {
				t.Fatalf("second dispatch sent again:\n%s", out)
			}
			msgs := bot.Slack.Messages(dm)
			if len(msgs) != 1 {
				t.Fatalf("%d DMs, want exactly one", len(msgs))
			}
			m := msgs[0]
			if !strings.Contains(string(m.Blocks), jsonText(lib.Checkin.Title.In(tc.lang))) ||
				!strings.Contains(string(m.Blocks), jsonText(lib.Checkin.Questions[0].Text.In(tc.lang))) {
				t.Fatalf("DM in the wrong language or without questions: %s", m.Blocks)
			}
			if !strings.Contains(string(m.Metadata), "trustbot_delivery") || !strings.Contains(string(m.Metadata), "delivery_id") {
				t.Fatalf("DM carries no delivery metadata: %s", m.Metadata)
			}

			// Answer the three questions by buttons; the message updates in place.
			cur := messageReply(m)
			for i, q := range lib.Checkin.Questions {
				cur = bot.PressValue(t, tc.user, cur, "checkin.answer", ":"+q.ID+":"+q.Choices[i%len(q.Choices)].ID)
				if !cur.ReplaceOriginal || !strings.Contains(cur.raw, "✓") {
					t.Fatalf("answer %s: %s", q.ID, cur.raw)
				}
			}
			if !strings.Contains(cur.raw, jsonText(lib.Checkin.Thanks.In(tc.lang))) {
				t.Fatalf("no thanks after the last answer: %s", cur.raw)
			}

			_, h := bot.Slash(t, tc.user, "history")
			if !strings.Contains(h.raw, "▇") || !strings.Contains(h.raw, "▄") || !strings.Contains(h.raw, lib.T(tc.lang, "history.streak", "count", "1")) {
				t.Fatalf("history: %s", h.raw)
			}
		})
	}
}

// PressValue presses the first control whose action_id starts with id and
// whose value contains part.
func (b *Bot) PressValue(t *testing.T, user string, r reply, id, part string) reply {
	t.Helper()
	for _, raw := range r.Blocks {
		var blk struct {
			Elements []struct {
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
			} `json:"elements"`
		}
		json.Unmarshal(raw, &blk)
		for _, e := range blk.Elements {
			if strings.HasPrefix(e.ActionID, id+"#") && strings.Contains(e.Value, part) {
				return b.pressExact(t, user, e.ActionID, e.Value)
			}
		}
	}
	t.Fatalf("no control %s with %q in %s", id, part, r.raw)
	return reply{}
}

// waitViews waits until the fake recorded n views of kind for user.
func (b *Bot) waitViews(t *testing.T, kind, user string, n int) []fakeslack.View {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		var got []fakeslack.View
		for _, v := range b.Slack.Views() {
			if v.Kind == kind && (user == "" || v.UserID == user) {
				got = append(got, v)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s views for %s, want %d\n%s", len(got), kind, user, n, b.Stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCheckinNoteAndHome(t *testing.T) {
	t.Parallel() // its own fake platform and database
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)
	bot.Slash(t, jaUser, "checkin weekly 金 16:00")
	// Setting a cadence republishes the Home tab.
	homes := bot.waitViews(t, "publish", jaUser, 1)
	if !strings.Contains(string(homes[len(homes)-1].View), "毎週金曜日 16:00") {
		t.Fatalf("home after setting a cadence: %s", homes[len(homes)-1].View)
	}

	due := bot.dueAt(t, jaUser)
	bot.Dispatch(t, "--now", due.Format(time.RFC3339))
	dm := bot.Slack.Messages("D" + jaUser)
	if len(dm) != 1 {
		t.Fatalf("%d DMs", len(dm))
	}

	// The note button opens a modal with the trigger of the click.
	opened := len(bot.waitViews(t, "open", "", 0))
	var noteValue string
	for _, raw := range messageReply(dm[0]).Blocks {
		if i := strings.Index(string(raw), `"checkin.note#`); i >= 0 {
			var blk struct {
				Elements []struct {
					ActionID string `json:"action_id"`
					Value    string `json:"value"`
				} `json:"elements"`
			}
			json.Unmarshal(raw, &blk)
			for _, e := range blk.Elements {
				if strings.HasPrefix(e.ActionID, "checkin.note#") {
					noteValue = e.Value
				}
			}
		}
	}
	if noteValue == "" {
		t.Fatalf("no note button in the DM: %s", dm[0].Blocks)
	}
	env, err := bot.Slack.Interactive(map[string]any{
		"type": "block_actions", "user": map[string]string{"id": jaUser, "team_id": fakeslack.TeamID},
		"team": map[string]string{"id": fakeslack.TeamID}, "channel": map[string]string{"id": "D" + jaUser},
		"container": map[string]any{"type": "message", "channel_id": "D" + jaUser, "message_ts": dm[0].TS},
		"actions":   []any{map[string]any{"type": "button", "action_id": "checkin.note#0", "block_id": "b9", "value": noteValue}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bot.Slack.WaitAck(ctxTimeout(t), env)
	views := bot.waitViews(t, "open", "", opened+1)
	modal := string(views[len(views)-1].View)
	if !strings.Contains(modal, `"callback_id":"checkin.note"`) || !strings.Contains(modal, noteValue) ||
		!strings.Contains(modal, jsonText(lib.Checkin.NoteLabel.In(trustbot.Japanese))) {
		t.Fatalf("modal: %s", modal)
	}

	// Submitting it saves the note, updates the DM in place and the Home tab.
	published := len(bot.waitViews(t, "publish", jaUser, 1))
	env, err = bot.Slack.Interactive(map[string]any{
		"type": "view_submission", "user": map[string]string{"id": jaUser, "team_id": fakeslack.TeamID},
		"team": map[string]string{"id": fakeslack.TeamID},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": "checkin.note", "private_metadata": noteValue,
			"state": map[string]any{"values": map[string]any{
				"note":   map[string]any{"note": map[string]string{"type": "plain_text_input", "value": "最後まで話を聞けた"}},
				"action": map[string]any{"action": map[string]string{"type": "plain_text_input", "value": "朝の挨拶を自分から"}},
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := bot.Slack.WaitAck(ctxTimeout(t), env); err != nil || len(ack.Payload) > 0 && string(ack.Payload) != "null" {
		t.Fatalf("submission ack %s %v: an empty ack closes the modal", ack.Payload, err)
	}
	bot.waitViews(t, "publish", jaUser, published+1)
	deadline := time.Now().Add(patience)
	for !bot.Slack.Messages("D" + jaUser)[0].Updated && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if m := bot.Slack.Messages("D" + jaUser)[0]; !m.Updated || !strings.Contains(string(m.Blocks), "最後まで話を聞けた") {
		t.Fatalf("DM not updated with the note: %s", m.Blocks)
	}
	_, h := bot.Slash(t, jaUser, "履歴")
	if !strings.Contains(h.raw, "最後まで話を聞けた") || !strings.Contains(h.raw, "朝の挨拶を自分から") {
		t.Fatalf("history lacks the note: %s", h.raw)
	}

	// Opening the Home tab publishes it; Slack's redelivery of the same event does not.
	before := len(bot.waitViews(t, "publish", enUser, 0))
	for attempt := range 2 {
		if _, err := bot.Slack.EventsAPI(map[string]any{"type": "app_home_opened", "user": enUser, "channel": "D" + enUser, "tab": "home", "event_ts": "1.0"}, "Ev0001", attempt); err != nil {
			t.Fatal(err)
		}
	}
	homes = bot.waitViews(t, "publish", enUser, before+1)
	if !strings.Contains(string(homes[len(homes)-1].View), jsonText(lib.T(trustbot.English, "checkin.none"))) {
		t.Fatalf("home for a user without check-ins: %s", homes[len(homes)-1].View)
	}
	bot.waitLog(t, `msg="duplicate event" component=slack event=Ev0001`)
	if n := len(bot.waitViews(t, "publish", enUser, 0)); n != before+1 {
		t.Fatalf("a redelivered event published the home %d times", n-before)
	}

	// A button on the Home tab (no response_url) answers by republishing it.
	env, err = bot.Slack.Interactive(map[string]any{
		"type": "block_actions", "user": map[string]string{"id": enUser, "team_id": fakeslack.TeamID},
		"team": map[string]string{"id": fakeslack.TeamID}, "container": map[string]any{"type": "view", "view_id": "VHOME"},
		"view":    map[string]any{"id": "VHOME", "type": "home"},
		"actions": []any{map[string]any{"type": "button", "action_id": "checkin.set#1", "block_id": "b5", "value": "weekly"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bot.Slack.WaitAck(ctxTimeout(t), env)
	homes = bot.waitViews(t, "publish", enUser, before+2)
	if !strings.Contains(string(homes[len(homes)-1].View), "every Friday at 16:00") {
		t.Fatalf("home after its weekly button: %s", homes[len(homes)-1].View)
	}
}

// TestConsoleCheckin: the whole check-in loop works in the console, the
// DM printed inline with numbered buttons and the note asked line by line.
func TestConsoleCheckin(t *testing.T) {
	lib := mustLibrary(t)
	env := map[string]string{"TRUSTBOT_DB": newDB(t)}
	in := "checkin weekly fri 16:00\ncheckin now\n1\n5\n8\n10\nlistened to the end\ngreet first\nhistory\n"
	code, out, stderr := runCmd(t, env, in, "console", "--lang", "en", "--tz", "Europe/London")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		strings.SplitN(lib.T(trustbot.English, "console.dm"), "{", 2)[0],
		lib.Checkin.Title.In(trustbot.English),
		"✓ " + lib.Checkin.Questions[0].Choices[0].Label.In(trustbot.English),
		lib.Checkin.Thanks.In(trustbot.English),
		"listened to the end",
		"greet first",
		lib.T(trustbot.English, "history.streak", "count", "1"),
		"every Friday at 16:00",
		"Time zone: Europe/London",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %q", want)
		}
	}
	if strings.Contains(out, "level=INFO") || strings.Contains(stderr, "level=INFO") {
		t.Error("info logs in the console")
	}
}

// TestConsoleNeverDeliversSlackUsersCheckins: on a database shared with a
// Slack workspace, the console delivers nothing and says why.
func TestConsoleNeverDeliversSlackUsersCheckins(t *testing.T) {
	path := testdb.EmptyDSN(t)
	due := time.Now().Add(-time.Hour)
	users := seedDue(t, path, 3, due)
	code, out, stderr := runCmd(t, map[string]string{"TRUSTBOT_DB": path}, "help\n", "console", "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "this console sends no DMs") {
		t.Fatalf("no warning about the shared database:\n%s", out)
	}
	for _, u := range users {
		if strings.Contains(out, u) {
			t.Fatalf("the console shows a Slack user's check-in: %s", u)
		}
	}
	db := testdb.OpenAt(t, path)
	defer db.Close()
	if due, _ := db.DueSchedules(context.Background(), time.Now(), 10); len(due) != len(users) {
		t.Fatalf("the console claimed Slack users' check-ins: %d of %d still due", len(due), len(users))
	}
}
