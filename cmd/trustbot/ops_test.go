package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestBackupToStdout: "backup -" streams a consistent copy out (what an
// image without a shell needs) and leaves nothing behind next to the
// database.
func TestBackupToStdout(t *testing.T) {
	testdb.SQLiteOnly(t, "trustbot backup copies a SQLite file (PostgreSQL is backed up with pg_dump)")
	dir := t.TempDir()
	env := map[string]string{"TRUSTBOT_DB": filepath.Join(dir, "trustbot.db")}
	if code, _, stderr := runCmd(t, env, "checkin weekly\n", "console", "--user", "UBACK", "--team", "TBACK", "--lang", "en"); code != 0 {
		t.Fatalf("console: exit %d: %s", code, stderr)
	}
	code, out, stderr := runCmd(t, env, "", "backup", "-")
	if code != 0 || !strings.HasPrefix(out, "SQLite format 3\x00") {
		t.Fatalf("backup -: exit %d, %d bytes: %s", code, len(out), stderr)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	db := testdb.OpenAt(t, copyPath)
	defer db.Close()
	if s, err := db.Schedule(context.Background(), trustbot.UserKey{Team: "TBACK", User: "UBACK"}); err != nil || !s.Active {
		t.Fatalf("the copy lacks the check-in: %+v %v", s, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".backup-*"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if code, _, _ := runCmd(t, env, "", "backup"); code != 2 {
		t.Errorf("backup without a file: exit %d, want 2", code)
	}
}

// TestHelp: --help and -h list every subcommand on a line of its own,
// --version works, and each command's synopsis (in its help and in the
// README) names every flag it takes.
func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"--help", "-h", "help"} {
		code, out, _ := runCmd(t, nil, "", arg)
		if code != 0 {
			t.Fatalf("%s: exit %d", arg, code)
		}
		for _, c := range commands {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.name) + ` +\S`).MatchString(out) {
				t.Errorf("%s does not list %q on a line of its own:\n%s", arg, c.name, out)
			}
		}
	}
	if code, out, _ := runCmd(t, nil, "", "--version"); code != 0 || !strings.HasPrefix(out, "trustbot ") {
		t.Errorf("--version: exit %d: %s", code, out)
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z-]+)`)
	for _, c := range commands {
		if c.run == nil || c.name == "version" {
			continue
		}
		code, out, _ := runCmd(t, nil, "", append(strings.Fields(c.name), "--help")...)
		if code != 0 {
			t.Errorf("%s --help: exit %d", c.name, code)
		}
		synopsis := "trustbot " + c.name + " " + c.args
		if !strings.Contains(out, "Usage: "+synopsis+"\n") {
			t.Errorf("%s --help lacks %q:\n%s", c.name, synopsis, out)
		}
		for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
			if !strings.Contains(c.args, "--"+m[1]) {
				t.Errorf("%s takes --%s, not in its synopsis %q", c.name, m[1], c.args)
			}
		}
		for _, m := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(c.args, -1) {
			if !strings.Contains(out, "\n  -"+m[1]) {
				t.Errorf("%s: its synopsis names --%s, which it does not take", c.name, m[1])
			}
		}
		if c.name == "serve" {
			synopsis = "trustbot [serve] " + c.args
		}
		if !strings.Contains(string(readme), synopsis) {
			t.Errorf("README.md lacks the synopsis %q", synopsis)
		}
	}
}

// TestConfigLogsEffectiveValues: the start-up log shows the values in
// force, defaults included.
func TestConfigLogsEffectiveValues(t *testing.T) {
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("starting", "config", cfg)
	for _, want := range []string{"config.send_rate=4 ", "config.db=trustbot.db ", "config.default_lang=ja ", "config.slack_bot_token=unset "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("start-up log lacks %q: %s", want, b.String())
		}
	}
}
