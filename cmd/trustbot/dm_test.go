package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// slackManifest is what the tests read of deploy/slack/manifest.yaml.
type slackManifest struct {
	Features struct {
		SlashCommands []struct {
			Command   string `yaml:"command"`
			UsageHint string `yaml:"usage_hint"`
			URL       string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuth struct {
		RedirectURLs []string `yaml:"redirect_urls"`
		Scopes       struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Events struct {
			RequestURL string   `yaml:"request_url"`
			Bot        []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			Enabled    bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
			OptionsURL string `yaml:"message_menu_options_url"`
		} `yaml:"interactivity"`
		SocketMode bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

func readManifest(t *testing.T) slackManifest { return readManifestFile(t, "manifest.yaml") }

// readManifestFile reads a manifest in deploy/slack.
func readManifestFile(t *testing.T, name string) slackManifest {
	t.Helper()
	b, err := os.ReadFile("../../deploy/slack/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m slackManifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The manifest subscribes to message.im with the one scope it needs
// (im:history), and its usage hint names every subcommand family.
func TestManifestDMAndUsage(t *testing.T) {
	m := readManifest(t)
	has := func(list []string, s string) bool {
		for _, e := range list {
			if e == s {
				return true
			}
		}
		return false
	}
	if !has(m.Settings.Events.Bot, "message.im") || !has(m.OAuth.Scopes.Bot, "im:history") {
		t.Errorf("message.im needs the event and im:history: events %v, scopes %v", m.Settings.Events.Bot, m.OAuth.Scopes.Bot)
	}
	for _, s := range []string{"im:read", "mpim:history", "mpim:read"} {
		if has(m.OAuth.Scopes.Bot, s) {
			t.Errorf("scope %s is more than the bot needs", s)
		}
	}
	if len(m.Features.SlashCommands) != 1 {
		t.Fatalf("slash commands: %+v", m.Features.SlashCommands)
	}
	hint := m.Features.SlashCommands[0].UsageHint
	if len(hint) > 1000 {
		t.Errorf("usage_hint is %d characters; Slack allows 1000", len(hint))
	}
	for _, family := range []string{"help", "tip", "phrase", "check", "checkin", "history", "workdays", "quiet", "holidays",
		"pause", "resume", "declined", "plan", "repair", "journeys", "weekly", "export", "forget", "lang"} {
		words := strings.FieldsFunc(hint, func(r rune) bool { return r == ' ' || r == '|' || r == '[' || r == ']' || r == '<' || r == '>' })
		if !has(words, family) {
			t.Errorf("usage_hint lacks %q: %s", family, hint)
		}
	}
}

// The HTTP mode's manifest asks for what the Socket Mode one asks for, no
// more (the install button asks for the same scopes), hears of uninstalls,
// and points Slack at the paths trustbot serves.
func TestManifestHTTP(t *testing.T) {
	sm, hm := readManifest(t), readManifestFile(t, "manifest-http.yaml")
	events := append(slices.Clone(sm.Settings.Events.Bot), "app_uninstalled", "tokens_revoked", "team_access_granted", "team_access_revoked")
	if !slices.Equal(sm.OAuth.Scopes.Bot, hm.OAuth.Scopes.Bot) || !slices.Equal(hm.OAuth.Scopes.Bot, slack.BotScopes) || !slices.Equal(events, hm.Settings.Events.Bot) {
		t.Errorf("scopes %v and events %v differ from Socket Mode's %v, %v", hm.OAuth.Scopes.Bot, hm.Settings.Events.Bot, sm.OAuth.Scopes.Bot, sm.Settings.Events.Bot)
	}
	if !sm.Settings.SocketMode || hm.Settings.SocketMode || !hm.Settings.Interactivity.Enabled {
		t.Errorf("socket_mode_enabled: %v in manifest.yaml, %v in manifest-http.yaml; interactivity %v", sm.Settings.SocketMode, hm.Settings.SocketMode, hm.Settings.Interactivity.Enabled)
	}
	if len(hm.Features.SlashCommands) != 1 || hm.Features.SlashCommands[0].Command != sm.Features.SlashCommands[0].Command ||
		hm.Features.SlashCommands[0].UsageHint != sm.Features.SlashCommands[0].UsageHint {
		t.Fatalf("slash command %+v differs from Socket Mode's", hm.Features.SlashCommands)
	}
	for got, path := range map[string]string{
		hm.Settings.Events.RequestURL:            slack.EventsPath,
		hm.Settings.Interactivity.RequestURL:     slack.InteractivePath,
		hm.Settings.Interactivity.OptionsURL:     slack.InteractivePath, // the topic menu's choices
		hm.Features.SlashCommands[0].URL:         slack.CommandsPath,
		strings.Join(hm.OAuth.RedirectURLs, " "): slack.CallbackPath,
	} {
		if u, err := url.Parse(got); err != nil || u.Scheme != "https" || u.Path != path {
			t.Errorf("request URL %q: want https://…%s", got, path)
		}
	}
}

// botDMs returns what the app posted in the DM channel.
func botDMs(s *fakeslack.Server, channel string) []fakeslack.Message {
	var out []fakeslack.Message
	for _, m := range s.Messages(channel) {
		if m.User == fakeslack.BotUserID {
			out = append(out, m)
		}
	}
	return out
}

// waitBotDMs waits until the app has posted n messages in the channel.
func waitBotDMs(t *testing.T, bot *Bot, channel string, n int) []fakeslack.Message {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got := botDMs(bot.Slack, channel)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages from the app in %s, want %d\n%s", len(got), channel, n, bot.Stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLog waits until the log holds s n times.
func waitLog(t *testing.T, bot *Bot, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for strings.Count(bot.Stderr.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the log holds %q %d times, want %d\n%s", s, strings.Count(bot.Stderr.String(), s), n, bot.Stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDMCommands: what a person types in the app's DM (the Messages tab)
// is answered there as a command, through the real slack-go client and a
// fake Slack that sends message.im events as Slack does, echoes of the
// app's own posts included.
func TestDMCommands(t *testing.T) {
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)
	bot.Slack.Subscribe(readManifest(t).Settings.Events.Bot...)
	en, ja := "D"+enUser, "D"+jaUser
	say := func(user, text, thread string) string {
		t.Helper()
		ts, err := bot.Slack.UserMessage(user, text, thread)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}

	tipTS := say(enUser, "tip", "")
	if m := waitBotDMs(t, bot, en, 1)[0]; !strings.Contains(string(m.Blocks), jsonText(lib.T(trustbot.English, "button.another_tip"))) {
		t.Fatalf("tip in the DM: %s", m.Blocks)
	}
	say(enUser, "/trust help", "")
	if m := waitBotDMs(t, bot, en, 2)[1]; !strings.Contains(string(m.Blocks), jsonText(lib.T(trustbot.English, "help.title"))) {
		t.Fatalf("/trust help in the DM: %s", m.Blocks)
	}
	for i, text := range []string{"ヘルプ", "／ｔｒｕｓｔ　ｈｅｌｐ"} {
		say(jaUser, text, "")
		if m := waitBotDMs(t, bot, ja, i+1)[i]; !strings.Contains(string(m.Blocks), jsonText(lib.T(trustbot.Japanese, "help.title"))) {
			t.Fatalf("%s in the DM: %s", text, m.Blocks)
		}
	}

	// A draft checked in the DM is answered there and stored nowhere.
	draft := "LINE教えてください。今日中に返事ください & <よろしく>"
	say(jaUser, "check "+draft, "")
	m := waitBotDMs(t, bot, ja, 3)[2]
	if !strings.Contains(string(m.Blocks), jsonText(lib.T(trustbot.Japanese, "check.not_stored"))) || !strings.Contains(string(m.Blocks), "⚠") {
		t.Fatalf("check in the DM: %s", m.Blocks)
	}

	// A message in a thread is answered in that thread.
	say(enUser, "ヒント", tipTS)
	if m := waitBotDMs(t, bot, en, 3)[2]; m.ThreadTS != tipTS {
		t.Fatalf("reply to a thread message went to thread %q, want %q", m.ThreadTS, tipTS)
	}

	// A plan cannot open a form from a typed message: a button offers it.
	say(enUser, "plan", "")
	if m := waitBotDMs(t, bot, en, 4)[3]; !strings.Contains(string(m.Blocks), coach.ActPlanStart+"#") {
		t.Fatalf("plan in the DM: %s", m.Blocks)
	}

	// Slack redelivers an event it thinks was lost: answered once.
	ev := map[string]any{"type": "message", "channel": en, "channel_type": "im", "user": enUser, "text": "help",
		"ts": "1700000000.000100", "event_ts": "1700000000.000100", "team": fakeslack.TeamID}
	for attempt := range 2 {
		env, err := bot.Slack.EventsAPI(ev, "EvDMRETRY", attempt)
		if err != nil {
			t.Fatal(err)
		}
		bot.Slack.WaitAck(ctxTimeout(t), env)
	}
	waitBotDMs(t, bot, en, 5)
	waitLog(t, bot, "duplicate event", 1)

	// Edits, deletions and the app's own posts (each echoed by Slack) are
	// not commands: every one is acknowledged and left unanswered.
	if err := bot.Slack.EditUserMessage(enUser, tipTS, "help"); err != nil {
		t.Fatal(err)
	}
	if err := bot.Slack.DeleteUserMessage(enUser, tipTS); err != nil {
		t.Fatal(err)
	}
	posts := len(botDMs(bot.Slack, en)) + len(botDMs(bot.Slack, ja))
	waitLog(t, bot, `msg="nothing to answer"`, posts+2)
	if n := len(botDMs(bot.Slack, en)); n != 5 {
		t.Fatalf("%d messages from the app in the DM, want 5 (one a command)", n)
	}
	if strings.Contains(bot.Stderr.String(), "reply not delivered") {
		t.Fatalf("a reply was not delivered:\n%s", bot.Stderr)
	}

	bot.Stop(t)
	db := testdb.OpenAt(t, bot.DB)
	defer db.Close()
	for _, s := range []string{draft, "今日中に返事ください"} {
		places, err := db.Mentions(context.Background(), s)
		if err != nil || len(places) > 0 {
			t.Fatalf("the draft checked in the DM is stored in %v (%v)", places, err)
		}
		if strings.Contains(bot.Stderr.String(), s) {
			t.Fatal("the draft checked in the DM is in the log")
		}
	}
}

// TestExportUploadFails: when Slack refuses the file, the user hears so
// where they asked, and nothing claims a file was sent; when it works,
// the answer says where the file went.
func TestExportUploadFails(t *testing.T) {
	lib := mustLibrary(t)
	bot := MustRunBot(t, nil)
	bot.Slack.Subscribe(readManifest(t).Settings.Events.Bot...)

	bot.Slack.FailNext("files.completeUploadExternal", "internal_error", 1)
	_, r := bot.Slash(t, enUser, "export")
	if !strings.Contains(r.raw, jsonText(lib.T(trustbot.English, "export.failed"))) || r.ResponseType == "in_channel" {
		t.Fatalf("a failed upload, where it was asked: %s", r.raw)
	}
	if strings.Contains(r.raw, jsonText(lib.T(trustbot.English, "export.sent_dm"))) || len(bot.Slack.Files()) != 0 {
		t.Fatalf("a failed upload claims a file: %s %+v", r.raw, bot.Slack.Files())
	}

	_, r = bot.Slash(t, enUser, "export")
	if !strings.Contains(r.raw, jsonText(lib.T(trustbot.English, "export.sent_dm"))) {
		t.Fatalf("the answer does not say where the file went: %s", r.raw)
	}
	files := bot.Slack.Files()
	if len(files) != 1 || files[0].Channel != "D"+enUser {
		t.Fatalf("files: %+v", files)
	}
	var x coach.Export
	if err := json.Unmarshal(files[0].Content, &x); err != nil || x.SchemaVersion != coach.ExportVersion || x.User != enUser {
		t.Fatalf("exported file: %+v %v", x, err)
	}

	// Typed in the DM: the file arrives there with its summary; a failure
	// is said there.
	bot.Slack.FailNext("files.getUploadURLExternal", "internal_error", 1)
	if _, err := bot.Slack.UserMessage(jaUser, "エクスポート", ""); err != nil {
		t.Fatal(err)
	}
	if m := waitBotDMs(t, bot, "D"+jaUser, 1)[0]; !strings.Contains(m.Text, lib.T(trustbot.Japanese, "export.failed")) {
		t.Fatalf("a failed upload asked for in the DM: %q", m.Text)
	}
	if _, err := bot.Slack.UserMessage(jaUser, "export", ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for len(bot.Slack.Files()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if files := bot.Slack.Files(); len(files) != 2 || files[1].Channel != "D"+jaUser || !strings.Contains(files[1].Comment, "JSON") {
		t.Fatalf("export asked for in the DM: %+v", files)
	}
}

// TestConsoleExport: the console writes the export where the user says,
// or into their data folder outside the repository, readable only by
// them, never over an existing file, and says where.
func TestConsoleExport(t *testing.T) {
	lib := mustLibrary(t)
	home, dir := t.TempDir(), t.TempDir()
	env := map[string]string{"TRUSTBOT_DB": testdb.EmptyDSN(t), "HOME": home}
	named := filepath.Join(dir, "mine.json")
	input := "checkin weekly\nexport\nexport " + named + "\nexport " + named + "\nexit\n"
	code, out, stderr := runCmd(t, env, input, "console", "--user", "UME", "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	defaults, _ := filepath.Glob(filepath.Join(home, ".local", "share", "trustbot", "trustbot-export-UME-*.json"))
	if len(defaults) != 1 {
		t.Fatalf("default export: %v\n%s", defaults, out)
	}
	for _, p := range []string{defaults[0], named} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
		saved := strings.Index(out, lib.T(trustbot.English, "console.saved", "file", p))
		if saved < 0 {
			t.Errorf("the console does not say it saved %s:\n%s", p, out)
		}
		// The reply describing the file comes first, then where it went.
		if summary := strings.Index(out, strings.SplitN(lib.T(trustbot.English, "export.summary"), "{", 2)[0]); summary < 0 || summary > saved {
			t.Errorf("where the file was saved is said before the reply about it:\n%s", out)
		}
		b, _ := os.ReadFile(p)
		var x coach.Export
		if err := json.Unmarshal(b, &x); err != nil || x.SchemaVersion != coach.ExportVersion || x.Checkins == nil {
			t.Errorf("%s: %v %+v", p, err, x)
		}
	}
	if !strings.Contains(out, lib.T(trustbot.English, "console.save_exists", "file", named)) {
		t.Errorf("a second export to the same file is not refused:\n%s", out)
	}
	// The operator's export prints the same format.
	code, cli, stderr := runCmd(t, env, "", "export", "--team", "TCONSOLE", "--user", "UME")
	var x coach.Export
	if err := json.Unmarshal([]byte(cli), &x); code != 0 || err != nil || x.Schema != coach.ExportSchema || x.Checkins == nil || x.Settings.Workdays[0] != "monday" {
		t.Errorf("trustbot export: exit %d, %v, %+v\n%s", code, err, x, stderr)
	}
	if cwd, _ := filepath.Glob("trustbot-export-*"); len(cwd) > 0 {
		t.Errorf("export wrote into the working folder: %v", cwd)
	}

	// XDG_DATA_HOME wins over HOME; with neither, the console asks for a file.
	xdg := t.TempDir()
	env["XDG_DATA_HOME"] = xdg
	runCmd(t, env, "export\nexit\n", "console", "--user", "UME", "--lang", "en")
	if got, _ := filepath.Glob(filepath.Join(xdg, "trustbot", "trustbot-export-UME-*.json")); len(got) != 1 {
		t.Errorf("export with XDG_DATA_HOME: %v", got)
	}
	delete(env, "XDG_DATA_HOME")
	delete(env, "HOME")
	_, out, _ = runCmd(t, env, "export\nexit\n", "console", "--user", "UME", "--lang", "en")
	if !strings.Contains(out, "export FILE") {
		t.Errorf("without a home folder the console does not ask for a file:\n%s", out)
	}
}
