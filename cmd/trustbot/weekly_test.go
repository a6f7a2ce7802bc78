package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// subscription reads a channel's subscription from the bot's database.
func (b *Bot) subscription(t *testing.T, channel string) trustbot.Subscription {
	t.Helper()
	db := testdb.OpenAt(t, b.DB)
	defer db.Close()
	s, err := db.Subscription(context.Background(), fakeslack.TeamID, channel)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// slashIn sends "/trust text" from a channel.
func (b *Bot) slashIn(t *testing.T, user, channel, text string) reply {
	t.Helper()
	url := b.Slack.NewResponseURL()
	env, err := b.Slack.SlashCommand(fakeslack.SlashCommand{UserID: user, ChannelID: channel, Text: text, ResponseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	b.Slack.WaitAck(ctxTimeout(t), env)
	return b.response(t, url, 1)
}

var tipTitle = regexp.MustCompile(`"text":"\*([^*]+)\*`)

func postedTitle(m fakeslack.Message) string {
	if g := tipTitle.FindStringSubmatch(string(m.Blocks)); g != nil {
		return g[1]
	}
	return ""
}

func TestWeeklyTip(t *testing.T) {
	t.Parallel() // its own fake platform and database
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)

	t.Run("NotInADM", func(t *testing.T) {
		r := bot.slashIn(t, jaUser, "D0SOMEDM", "weekly on")
		if !strings.Contains(r.raw, jsonText(lib.T(trustbot.Japanese, "weekly.in_dm"))) {
			t.Fatalf("weekly in a DM: %s", r.raw)
		}
	})
	t.Run("NotAMember", func(t *testing.T) {
		bot.Slack.SetChannelError("C0OUTSIDE", "not_in_channel")
		r := bot.slashIn(t, jaUser, "C0OUTSIDE", "weekly on")
		if !strings.Contains(r.raw, "/invite @trustbot") {
			t.Fatalf("weekly where the bot is not a member: %s", r.raw)
		}
	})

	r := bot.slashIn(t, jaUser, "C0TEAM", "今週のヒント on 月 9:00")
	if !strings.Contains(r.raw, jsonText(lib.T(trustbot.Japanese, "weekly.saved"))) || !strings.Contains(r.raw, `\u003c@`+jaUser+`\u003e`) {
		t.Fatalf("subscribe: %s", r.raw)
	}
	bot.slashIn(t, enUser, "C0OTHER", "weekly on mon 9:00 en")

	var teamTitles, otherTitles []string
	for week := range 12 {
		s := bot.subscription(t, "C0TEAM")
		if s.Occurrence.Weekday() != time.Monday {
			t.Fatalf("week %d: occurrence %s is not a Monday", week, s.Occurrence)
		}
		bot.Dispatch(t, "--now", s.NextDueAt.Format(time.RFC3339))
		if o := bot.subscription(t, "C0OTHER"); !o.NextDueAt.After(s.NextDueAt) {
			bot.Dispatch(t, "--now", o.NextDueAt.Format(time.RFC3339))
		}
		posts := bot.Slack.Messages("C0TEAM")
		if len(posts) != week+1 {
			t.Fatalf("week %d: %d posts in the channel", week, len(posts))
		}
		teamTitles = append(teamTitles, postedTitle(posts[week]))
	}
	for _, m := range bot.Slack.Messages("C0OTHER") {
		otherTitles = append(otherTitles, postedTitle(m))
	}
	seen := map[string]bool{}
	for _, title := range teamTitles {
		if title == "" || seen[title] {
			t.Fatalf("tips repeat or are missing in twelve weeks: %q", teamTitles)
		}
		seen[title] = true
	}
	if strings.Join(teamTitles[:3], "|") == strings.Join(otherTitles[:min(3, len(otherTitles))], "|") {
		t.Fatalf("two channels got the same order: %q", teamTitles[:3])
	}
	for _, m := range bot.Slack.AllMessages() {
		if m.Channel != "C0TEAM" && m.Channel != "C0OTHER" {
			t.Fatalf("a post went elsewhere: %s", m.Channel)
		}
	}
	// A channel is not a user: posting never looks a channel up as one.
	for _, c := range bot.Slack.Calls("users.info") {
		if strings.HasPrefix(c.Params["user"], "C") {
			t.Fatalf("users.info asked about channel %s", c.Params["user"])
		}
	}

	t.Run("TryItFollowUp", func(t *testing.T) {
		post := bot.Slack.Messages("C0OTHER")[0]
		got := bot.PressValue(t, enUser, messageReply(post), "weekly.try", "")
		if got.ReplaceOriginal || got.ResponseType != "ephemeral" || !strings.Contains(got.raw, "Nice.") {
			t.Fatalf("try this: %s", got.raw)
		}
		db := testdb.OpenAt(t, bot.DB)
		ds, _ := db.Deliverable(context.Background(), time.Now().Add(30*24*time.Hour), 100)
		db.Close()
		var due time.Time
		for _, d := range ds {
			if d.Kind == "tryit" && d.User == enUser {
				due = d.DueAt
			}
		}
		if due.IsZero() || time.Until(due) < 2*24*time.Hour {
			t.Fatalf("follow-up due %v, want a few days later", due)
		}
		bot.Dispatch(t, "--now", due.Format(time.RFC3339))
		dm := bot.Slack.Messages("D" + enUser)
		if len(dm) != 1 || !strings.Contains(string(dm[0].Blocks), "How did it go") {
			t.Fatalf("try-it DM: %+v", dm)
		}
		bot.PressValue(t, enUser, messageReply(dm[0]), "tryit.answer", ":tried")
		_, h := bot.Slash(t, enUser, "history")
		if !strings.Contains(h.raw, "Tips you tried") || !strings.Contains(h.raw, "Tried it") {
			t.Fatalf("history lacks the tried tip: %s", h.raw)
		}
	})

	t.Run("RemovedBotPausesWithOneDM", func(t *testing.T) {
		bot.Slack.SetChannelError("C0TEAM", "not_in_channel")
		before := len(bot.Slack.Messages("D" + jaUser))
		for range 3 {
			s := bot.subscription(t, "C0TEAM")
			if !s.Active {
				break
			}
			bot.Dispatch(t, "--now", s.NextDueAt.Format(time.RFC3339))
		}
		s := bot.subscription(t, "C0TEAM")
		if s.Active || s.Stopped == "" {
			t.Fatalf("subscription not paused: %+v", s)
		}
		calls := len(bot.Slack.Calls("chat.postMessage"))
		bot.Dispatch(t, "--now", time.Now().Add(400*24*time.Hour).Format(time.RFC3339))
		dms := bot.Slack.Messages("D" + jaUser)[before:]
		if len(dms) != 1 || !strings.Contains(string(dms[0].Blocks), "/invite @trustbot") {
			t.Fatalf("%d DMs to the subscriber, want one explaining how to resume: %+v", len(dms), dms)
		}
		for _, c := range bot.Slack.Calls("chat.postMessage")[calls:] {
			if c.Params["channel"] == "C0TEAM" {
				t.Fatal("posting retried in a paused channel")
			}
		}
		// In the channel it was removed from, trustbot says how to bring it back.
		r := bot.slashIn(t, jaUser, "C0TEAM", "weekly status")
		if !strings.Contains(r.raw, jsonText(lib.T(trustbot.Japanese, "weekly.not_member"))) {
			t.Fatalf("status where the bot was removed: %s", r.raw)
		}
	})

	// Turned off, a channel's status says it is off, not that it never
	// had a tip of the week.
	t.Run("OffSaysOff", func(t *testing.T) {
		off, _, _ := strings.Cut(lib.T(trustbot.English, "weekly.is_off"), "{")
		for _, text := range []string{"weekly off", "weekly status"} {
			r := bot.slashIn(t, enUser, "C0OTHER", text)
			if !strings.Contains(r.raw, jsonText(off)+"Monday") || strings.Contains(r.raw, jsonText(lib.T(trustbot.English, "weekly.none"))) {
				t.Fatalf("%s: %s", text, r.raw)
			}
		}
	})
}

func TestWeeklyAdmins(t *testing.T) {
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_ADMINS": "UADMIN1, UADMIN2"})
	r := bot.slashIn(t, enUser, "C0TEAM", "weekly on")
	if !strings.Contains(r.raw, "Only the people set as admins") {
		t.Fatalf("non-admin subscribed: %s", r.raw)
	}
	if r := bot.slashIn(t, enUser, "C0TEAM", "weekly status"); strings.Contains(r.raw, "Only the people") {
		t.Fatalf("status refused to a member: %s", r.raw)
	}
	bot.Slack.AddUser(fakeslack.User{ID: "UADMIN2", TZ: "Asia/Tokyo", Locale: "en-US"})
	if r := bot.slashIn(t, "UADMIN2", "C0TEAM", "weekly on"); !strings.Contains(r.raw, "is set up") {
		t.Fatalf("admin could not subscribe: %s", r.raw)
	}
}
