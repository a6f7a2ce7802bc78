package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

// liveRE finds what Slack shows as a mention or a link in mrkdwn text.
var liveRE = regexp.MustCompile(`<[@#!][^>]*>|<https?:`)

// liveMentions returns the live mentions and links in what Slack reads as
// mrkdwn in a message or view as sent (JSON): every "text" that is not
// plain_text, plus the notification text given apart.
func liveMentions(t *testing.T, raw []byte, texts ...string) []string {
	t.Helper()
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
	}
	var md strings.Builder
	for _, s := range texts {
		md.WriteString(s + "\n")
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			typ, _ := x["type"].(string)
			for k, e := range x {
				if s, ok := e.(string); ok {
					if k == "text" && typ != "plain_text" {
						md.WriteString(s + "\n")
					}
					continue
				}
				walk(e)
			}
		}
	}
	walk(v)
	return liveRE.FindAllString(md.String(), -1)
}

// TestUserTextEchoedInert: mentions, channel links, @here and markup typed
// by a user come back as the characters they typed, in every place their
// text is echoed: the reply to an unknown command, a journey's label in
// the reply, the list and the follow-up DM (blocks and notification text),
// and the data export's message. The coach's own mentions stay live.
func TestUserTextEchoedInert(t *testing.T) {
	bot := MustRunBot(t, nil)
	const label = "<@U0EVIL>{@U0EVIL}<#C0EVIL>{#C0EVIL}<!here><!channel>&<>"
	check := func(where string, raw []byte, texts ...string) {
		t.Helper()
		if got := liveMentions(t, raw, texts...); len(got) > 0 {
			t.Errorf("%s: user text became live: %q", where, got)
		}
	}
	for _, word := range []string{"<@U0EVIL>", "{@U0EVIL}", "<#C0EVIL>", "{#C0EVIL}", "<!here>", "<!channel>", "a&b<c>"} {
		_, r := bot.Slash(t, enUser, word)
		check("unknown command "+word, []byte(r.raw))
		if !strings.Contains(r.raw, jsonText(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(word))) {
			t.Errorf("unknown command %s is not echoed as typed: %s", word, r.raw)
		}
	}

	_, r := bot.Slash(t, enUser, "declined "+label)
	check("declined reply", []byte(r.raw))
	_, r = bot.Slash(t, enUser, "journeys")
	check("journeys list", []byte(r.raw))
	if !strings.Contains(r.raw, jsonText("&lt;@U0EVIL&gt;{@U0EVIL}")) {
		t.Errorf("the label is not shown as typed: %s", r.raw)
	}
	j := bot.journey(t, enUser, "cooling")
	bot.Dispatch(t, "--now", j.NextDueAt.Format("2006-01-02T15:04:05Z07:00"))
	dms := bot.Slack.Messages("D" + enUser)
	if len(dms) == 0 {
		t.Fatal("no follow-up DM")
	}
	for _, m := range dms {
		check("follow-up DM", m.Blocks, m.Text)
	}

	_, r = bot.Slash(t, enUser, "export")
	check("export reply", []byte(r.raw))
	files := bot.Slack.Files()
	if len(files) == 0 {
		t.Fatal("no export file")
	}
	for _, f := range files {
		check("export message", nil, f.Comment, f.Title)
	}

	// A channel's tip of the week names its subscriber: that mention is
	// the coach's own and stays live.
	bot.Slack.SetChannelName(fakeslack.DefaultChannelID, "general")
	bot.Slash(t, jaUser, "weekly on")
	_, r = bot.Slash(t, jaUser, "weekly status")
	if got := liveMentions(t, []byte(r.raw)); len(got) == 0 || slices.ContainsFunc(got, func(m string) bool { return m != "<@"+jaUser+">" }) {
		t.Errorf("weekly status mentions %q, want the subscriber <@%s>: %s", got, jaUser, r.raw)
	}
}

// TestConsoleShowsUserTextAsTyped: the console never takes a user's
// braces for the coach's mentions (it used to print "{@U0EVIL}" as
// "@U0EVIL"), and no mark or control character of a mention reaches the
// terminal.
func TestConsoleShowsUserTextAsTyped(t *testing.T) {
	const label = "{@U0EVIL}{#C0EVIL}&x"
	env := map[string]string{"TRUSTBOT_DB": newDB(t)}
	code, out, stderr := runCmd(t, env, "declined "+label+"\njourneys\n", "console", "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(out, label); n < 2 {
		t.Errorf("the label is shown as typed %d times, want in the reply and the list:\n%s", n, out)
	}
	if strings.ContainsAny(out, "\x1d\x1f") {
		t.Error("a mention mark reached the terminal")
	}
}
