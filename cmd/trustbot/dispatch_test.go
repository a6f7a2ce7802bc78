package main

import (
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

// TestDispatchDryRun: a dry run lists every kind a real pass sends
// (check-ins, journey follow-ups, channel posts), grouped by kind, needs
// no token and changes nothing; the real pass then sends exactly that,
// with the bot token alone.
func TestDispatchDryRun(t *testing.T) {
	t.Parallel() // its own fake platform and database
	bot := MustRunBot(t, nil)
	bot.Slash(t, jaUser, "checkin weekly")
	bot.Slash(t, enUser, "declined")
	bot.slashIn(t, jaUser, "C0TEAM", "weekly on")
	now := time.Now().Add(40 * 24 * time.Hour).UTC().Format(time.RFC3339)
	noTokens := maps.Clone(bot.Env)
	delete(noTokens, "SLACK_BOT_TOKEN")
	delete(noTokens, "SLACK_APP_TOKEN")

	dry := func() string {
		t.Helper()
		code, out, stderr := runCmd(t, noTokens, "", "dispatch", "--dry-run", "--now", now)
		if code != 0 {
			t.Fatalf("dry run without tokens: exit %d\n%s", code, stderr)
		}
		return out
	}
	out := dry()
	for _, want := range []string{
		"check-ins: 1\n  checkin " + fakeslack.TeamID + " " + jaUser,
		"journey follow-ups: 1\n  journey " + fakeslack.TeamID + " " + enUser,
		"channel posts (tip of the week): 1\n  weekly " + fakeslack.TeamID + " C0TEAM",
		"3 to send",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if n := len(bot.Slack.Messages("D"+jaUser)) + len(bot.Slack.Messages("D"+enUser)) + len(bot.Slack.Messages("C0TEAM")); n != 0 {
		t.Fatalf("the dry run sent %d messages", n)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(bot.DB), ".dry-run-*")); len(left) > 0 {
		t.Errorf("the dry run left its copy behind: %v", left)
	}
	if again := dry(); again != out {
		t.Fatalf("a second dry run differs: the first changed something\n%s\n---\n%s", out, again)
	}

	// The real pass needs the bot token only, and sends what was listed.
	// Only one trustbot sends from a database at a time: the bot stops.
	bot.Stop(t)
	botOnly := maps.Clone(bot.Env)
	delete(botOnly, "SLACK_APP_TOKEN")
	code, sent, stderr := runCmd(t, botOnly, "", "dispatch", "--now", now, "--force")
	if code != 0 {
		t.Fatalf("dispatch without SLACK_APP_TOKEN: exit %d\n%s", code, stderr)
	}
	listed := regexp.MustCompile(`(?m)^  (\S+) \S+ (\S+) occurrence (\S+) `).FindAllStringSubmatch(out, -1)
	done := regexp.MustCompile(`(?m)^sent +(\S+) +\S+ (\S+) occurrence (\S+) `).FindAllStringSubmatch(sent, -1)
	key := func(ms [][]string) []string {
		var ks []string
		for _, m := range ms {
			ks = append(ks, strings.Join(m[1:], " "))
		}
		slices.Sort(ks)
		return ks
	}
	if !slices.Equal(key(listed), key(done)) || len(done) != 3 {
		t.Fatalf("the dry run listed %v, the pass sent %v\n%s", key(listed), key(done), sent)
	}
	if code, _, stderr := runCmd(t, noTokens, "", "dispatch", "--now", now, "--force"); code != 2 || !strings.Contains(stderr, "SLACK_BOT_TOKEN") || strings.Contains(stderr, "SLACK_APP_TOKEN") {
		t.Errorf("dispatch without a bot token: exit %d, %s; want 2 naming SLACK_BOT_TOKEN only", code, stderr)
	}
}
