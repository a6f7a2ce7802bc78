package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Dispatch runs "trustbot dispatch" with the bot's configuration.
func (b *Bot) Dispatch(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := runCmd(t, b.Env, "", append([]string{"dispatch"}, args...)...)
	if code != 0 {
		t.Fatalf("dispatch %v: exit %d\n%s\n%s", args, code, out, stderr)
	}
	return out
}

var dueLine = regexp.MustCompile(`due +\S+ (\S+) checkin occurrence (\S+) at (\S+)`)

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
